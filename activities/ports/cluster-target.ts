import type { RenderedManifest } from '../../shared/domain';

/**
 * Where in the fleet a set of manifests belongs: one component of a service (its workload or its
 * mesh wiring), or the namespace itself (what a landing zone creates: quota, policies, bindings).
 */
export type TargetLocation =
  | { cluster: string; namespace: string; service: string; component: 'app' | 'mesh' }
  | { cluster: string; namespace: string; component: 'namespace' };

/** "payments-dev/ledger (app)" or "payments-dev (namespace)", for messages. */
export function describeLocation(location: TargetLocation): string {
  return location.component === 'namespace'
    ? `${location.namespace} (namespace)`
    : `${location.namespace}/${location.service} (${location.component})`;
}

export interface ApplyRequest {
  /** Unique per run and step (`<workflowId>/<runId>/<step>`); applying twice applies once. */
  idempotencyKey: string;
  location: TargetLocation;
  manifests: RenderedManifest[];
  /** Goes into the audit trail (commit message, annotations). */
  audit: { title: string; deploymentId: string; runId: string; changeNumber?: string };
  /** Extra files to store beside the manifests, by path relative to the target's root (the chart). */
  extraFiles?: Record<string, string>;
}

export interface ApplyResult {
  /** The target's revision after the apply (a commit sha for GitOps). */
  revision: string;
  /** The revision of the location before this apply, null when there was none. */
  previousRevision: string | null;
  /** False when the location already held exactly these manifests. */
  changed: boolean;
}

export interface RollbackRequest {
  /** The idempotency key of the apply to undo. */
  idempotencyKey: string;
  /** Where the apply went; lets a multi-cluster target go straight to the right cluster. */
  location?: TargetLocation;
  audit: ApplyRequest['audit'];
}

export interface RollbackResult {
  /**
   * False when there was nothing to undo (the apply never happened). A repeated rollback of the
   * same apply answers true with the revision of the first rollback, so a retry sees what the
   * first attempt saw.
   */
  rolledBack: boolean;
  revision?: string;
  /** What the undo did and what it left alone, for the people reading the run. */
  detail?: string;
}

export interface VerifyRequest {
  location: TargetLocation;
  manifests: RenderedManifest[];
  /** The revision the apply produced. */
  revision: string;
  /** How long a rollout may take before it counts as failed (the environment's policy). */
  timeoutMs?: number;
}

export interface VerifyResult {
  healthy: boolean;
  detail: string;
}

export interface NamespaceInventory {
  /** Services with a workload or mesh wiring in the namespace. */
  services: string[];
  /** False when not even the namespace's own objects are there. */
  namespaceExists: boolean;
}

/** A place that runs workloads: a GitOps repository (embedded default) or a cluster's Kubernetes API. */
export interface ClusterTarget {
  /** What is deployed in one namespace now. */
  inventory(location: { cluster: string; namespace: string }): Promise<NamespaceInventory>;
  apply(request: ApplyRequest): Promise<ApplyResult>;
  rollback(request: RollbackRequest): Promise<RollbackResult>;
  verify(request: VerifyRequest, onProgress?: (detail: string) => void): Promise<VerifyResult>;
}
