/**
 * Undoing what a run applied to a cluster target, for every flow that applies manifests
 * (deployments, landing-zone namespaces): restores each object as the run found it.
 */
import { whileHeartbeating } from './heartbeat';
import type { ClusterTarget, RollbackRequest, RollbackResult } from './ports/cluster-target';

export function createClusterChangeActivities(cluster: ClusterTarget) {
  return {
    async rollbackManifests(request: RollbackRequest): Promise<RollbackResult> {
      return whileHeartbeating(() => cluster.rollback(request));
    },
  };
}

export type ClusterChangeActivities = ReturnType<typeof createClusterChangeActivities>;
