/**
 * `@kubernetes/client-node` 1.x is ESM-only and this project is CommonJS, so it is loaded with a
 * dynamic import, once, the first time a Kubernetes target is used (never at start-up of a worker
 * that runs the GitOps target).
 */
import type * as KubernetesClient from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

export type KubernetesClientModule = typeof KubernetesClient;

let loading: Promise<KubernetesClientModule> | undefined;

export function loadKubernetesClient(): Promise<KubernetesClientModule> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}
