export { createKubernetesClusterTarget, DEFAULT_STATE_NAMESPACE, DEFAULT_ROLLOUT_TIMEOUT_MS, type KubernetesClusterTargetOptions } from './target';
export type { ClusterConnectionSpec } from './connection';
export { FIELD_MANAGER } from './objects';
