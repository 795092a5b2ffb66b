/**
 * Judges one Deployment's rollout from its status, the way `kubectl rollout status` does: the
 * controller must have observed the latest generation, every replica must run the new template
 * and be available, no old replica may be left, and `Progressing` must not have given up.
 */
export interface DeploymentCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentLike {
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

export type RolloutState =
  | { state: 'progressing'; detail: string }
  | { state: 'complete'; detail: string }
  | { state: 'failed'; reason: string; detail: string };

function condition(deployment: DeploymentLike, type: string): DeploymentCondition | undefined {
  return deployment.status?.conditions?.find((c) => c.type === type);
}

export function judgeRollout(deployment: DeploymentLike): RolloutState {
  const name = `Deployment ${deployment.metadata.namespace ? `${deployment.metadata.namespace}/` : ''}${deployment.metadata.name}`;
  const generation = deployment.metadata.generation ?? 0;
  const status = deployment.status ?? {};
  const observed = status.observedGeneration ?? 0;
  if (observed < generation) {
    return { state: 'progressing', detail: `${name}: waiting for the controller to observe generation ${generation} (observed ${observed})` };
  }
  const progressing = condition(deployment, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', reason: 'ProgressDeadlineExceeded', detail: `${name} exceeded its progress deadline: ${progressing.message ?? 'no message'}` };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const counts = `${updated}/${desired} updated, ${ready}/${desired} ready, ${available}/${desired} available`;
  const replicaFailure = condition(deployment, 'ReplicaFailure');
  const blocked = replicaFailure?.status === 'True' ? ` (ReplicaFailure: ${replicaFailure.message ?? replicaFailure.reason ?? 'unknown'})` : '';
  if (updated < desired) return { state: 'progressing', detail: `${name}: ${counts}${blocked}` };
  if (total > updated) return { state: 'progressing', detail: `${name}: ${counts}, ${total - updated} old replicas pending termination${blocked}` };
  if (available < updated) return { state: 'progressing', detail: `${name}: ${counts}${blocked}` };
  return { state: 'complete', detail: `${name}: ${counts} (generation ${generation})` };
}
