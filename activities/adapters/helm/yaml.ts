import { stringify } from 'yaml';

/**
 * YAML for Go consumers (Helm, kubectl, Argo CD read YAML 1.1 through sigs.k8s.io/yaml): the 1.1
 * schema quotes strings such as `yes`, `on` or `2024-01-01` that 1.1 would read as booleans or
 * dates, and no folding keeps long image references on one line.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 });
}
