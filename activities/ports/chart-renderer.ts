import type { DeployRequest, RenderedRelease } from '../../shared/domain';

export interface ReleaseSpec {
  request: DeployRequest;
  namespace: string;
  /** Identifies the run in labels/annotations, so a cluster object can be traced to its run. */
  deploymentId: string;
}

/**
 * Wraps an image in a Helm chart and renders the chart's manifests. Implementations must
 * validate every rendered object against its schema and throw `ManifestInvalid` otherwise.
 */
export interface ChartRenderer {
  render(spec: ReleaseSpec): Promise<RenderedRelease>;
}
