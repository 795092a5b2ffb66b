/**
 * The chart as files: a real Helm chart (apiVersion v2) that `helm lint` accepts and
 * `helm template <release> <dir>` renders to the platform's manifests. It is stored beside the
 * manifests so a person can inspect, diff or re-render what was deployed.
 */
import type { ChartModel } from './chart-model';
import { TEMPLATE_FILES } from './templates';
import { toYaml } from './yaml';

function chartYaml(chart: ChartModel): string {
  return toYaml({
    apiVersion: 'v2',
    name: chart.name,
    description: chart.description,
    type: 'application',
    version: chart.version,
    appVersion: chart.appVersion,
  });
}

function valuesYaml(chart: ChartModel): string {
  const header = [
    '# Values the deployment platform rendered this release with.',
    `# Render it as the platform did: helm template ${chart.releaseName} <this chart directory>`,
    '',
  ].join('\n');
  return header + toYaml(chart.values);
}

export function chartFiles(chart: ChartModel): Record<string, string> {
  return {
    'Chart.yaml': chartYaml(chart),
    'values.yaml': valuesYaml(chart),
    ...TEMPLATE_FILES,
  };
}
