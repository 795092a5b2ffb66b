/**
 * The built-in chart renderer: the platform's own chart, rendered in TypeScript (no helm binary
 * needed), every object schema-checked before anything leaves the worker.
 */
import { createHash } from 'node:crypto';
import type { RenderedManifest, RenderedRelease } from '../../../shared/domain';
import type { ChartRenderer, ReleaseSpec } from '../../ports/chart-renderer';
import { chartFiles } from './chart-files';
import { chartModel } from './chart-model';
import { buildObjects, type ComponentObject } from './manifests';
import { assertValid } from './schema-check';
import { toYaml } from './yaml';

function toManifest({ component, object }: ComponentObject): RenderedManifest {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace ?? '',
    component,
    yaml: toYaml(object),
  };
}

/**
 * Identifies the release by content: chart files by path, then manifests by component, kind and
 * name, so neither object order nor key order in memory changes it. JSON framing keeps the
 * boundary between one entry and the next unambiguous.
 */
export function contentHash(files: Record<string, string>, manifests: readonly RenderedManifest[]): string {
  const entries = [
    ...Object.entries(files).map(([path, text]) => [`chart/${path}`, text]),
    ...manifests.map((m) => [`manifest/${m.component}/${m.kind}/${m.namespace}/${m.name}`, m.yaml]),
  ].sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

export function renderRelease(spec: ReleaseSpec): RenderedRelease {
  const chart = chartModel(spec);
  const objects = buildObjects(chart);
  for (const { object } of objects) assertValid(object);
  const files = chartFiles(chart);
  const manifests = objects.map(toManifest);
  return {
    chart: { name: chart.name, version: chart.version, appVersion: chart.appVersion, files },
    manifests,
    contentHash: contentHash(files, manifests),
    namespace: chart.values.namespace,
    pinnedImage: `${chart.values.image.repository}@${chart.values.image.digest}`,
  };
}

export function createBuiltinChartRenderer(): ChartRenderer {
  return {
    async render(spec) {
      return renderRelease(spec);
    },
  };
}
