/**
 * The deploy pipeline's own activities (closing changes and undoing applies are shared by every
 * flow: change-requests.ts, cluster-changes.ts): thin functions over the provider ports. Each one is idempotent
 * under retry; keys toward outside systems are derived from the workflow id, run id and step.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { DeployInput } from '../shared/contracts/deploy';
import type { ChangeRecord, DeployRequest, RenderedRelease, ScanSummary } from '../shared/domain';
import { ErrorType } from '../shared/errors';
import type { ChangeManagement } from './ports/change-management';
import type { ChartRenderer } from './ports/chart-renderer';
import { describeLocation, type ApplyRequest, type ApplyResult, type ClusterTarget, type VerifyRequest } from './ports/cluster-target';
import type { ImageScanner } from './ports/image-scanner';
import { whileHeartbeating } from './heartbeat';
import { judgeScan, scanViolation } from './scan-policy';

export interface DeployPorts {
  scanner: ImageScanner;
  renderer: ChartRenderer;
  changes: ChangeManagement;
  cluster: ClusterTarget;
}

export interface OpenChangeInput {
  correlationId: string;
  deploymentId: string;
  request: DeployRequest;
  approvalRequired: boolean;
  release: Pick<RenderedRelease, 'contentHash' | 'namespace' | 'pinnedImage'> & { chart: string };
  scan: ScanSummary;
  /** The planned window the environment's policy proposes (ISO times). */
  window?: { start: string; end: string };
}

function describeChange(input: OpenChangeInput): string {
  const { request, release, scan } = input;
  return [
    `Deploy ${request.service} of project ${request.project} to ${request.environment}.`,
    `Image: ${release.pinnedImage}`,
    `Namespace: ${release.namespace}`,
    `Chart: ${release.chart} (content sha256 ${release.contentHash})`,
    `Route: ${request.route.host}${request.route.path}`,
    `Scan (${scan.scanner}): ${Object.entries(scan.counts).map(([s, n]) => `${s} ${n}`).join(', ')}`,
    request.requester && request.requester !== request.requestedBy
      ? `Requested by: ${request.requester} (authenticated; stated requester: ${request.requestedBy})`
      : `Requested by: ${request.requestedBy}`,
    `Platform run: ${input.deploymentId} (${input.correlationId})`,
  ].join('\n');
}

export function createDeployActivities(ports: DeployPorts) {
  return {
    async scanImage({ request, policy }: DeployInput): Promise<ScanSummary> {
      // A registry scan (ECR) can take minutes: heartbeats every second (the adapter adds progress
      // details) so that a worker killed mid-scan is noticed within the 10 s heartbeat timeout.
      const findings = await whileHeartbeating(() => ports.scanner.findings({ image: request.image, report: request.scanReport }));
      const summary = judgeScan(findings, policy.scan);
      if (!summary.passed) throw scanViolation(summary, policy.name);
      return summary;
    },

    async renderRelease(input: { request: DeployRequest; namespace: string; deploymentId: string }): Promise<RenderedRelease> {
      return whileHeartbeating(() => ports.renderer.render(input));
    },

    async openChange(input: OpenChangeInput): Promise<ChangeRecord> {
      const { request } = input;
      return whileHeartbeating(() => ports.changes.open({
        correlationId: input.correlationId,
        shortDescription: `Deploy ${request.service} ${request.image.tag ?? request.image.digest.slice(7, 19)} to ${request.project}/${request.environment}`,
        description: describeChange(input),
        type: input.approvalRequired ? 'normal' : 'standard',
        requestedBy: request.requester ?? request.requestedBy,
        ...(input.window ? { window: input.window } : {}),
      }));
    },

    async deployRelease(request: ApplyRequest): Promise<ApplyResult> {
      return whileHeartbeating(() => ports.cluster.apply(request));
    },

    async wireMesh(request: ApplyRequest): Promise<ApplyResult> {
      return whileHeartbeating(() => ports.cluster.apply(request));
    },

    /**
     * Heartbeats while it checks and while it waits for the target (the GitOps lock behind other
     * runs), so a dead worker is noticed within the heartbeat timeout and a busy one never is.
     */
    async verifyRollout(requests: VerifyRequest[]): Promise<string> {
      const details: string[] = [];
      for (const request of requests) {
        let progress = `verifying ${request.location.component}`;
        const result = await whileHeartbeating(
          () => ports.cluster.verify(request, (detail) => { progress = detail; Context.current().heartbeat(detail); }),
          1_000,
          () => progress,
        );
        if (!result.healthy) {
          throw ApplicationFailure.create({
            type: ErrorType.VerificationFailed,
            nonRetryable: true,
            message: `${describeLocation(request.location)} is not as applied: ${result.detail}`,
          });
        }
        details.push(result.detail);
      }
      return details.join('; ');
    },
  };
}

export type DeployActivities = ReturnType<typeof createDeployActivities>;
