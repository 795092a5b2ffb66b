/**
 * The production cluster target: every rendered object server-side applied to the cluster's
 * Kubernetes API with one field manager, an apply record kept on the cluster so an undo restores
 * exactly what was there before, and a rollout check that watches the Deployment's status.
 *
 * How an undo avoids touching what another run applied since: every applied object carries the
 * apply's id in an annotation. An undo restores (or deletes) an object only while that annotation
 * still names its own apply; an object a later apply changed names that apply instead and is left
 * as it is (reported in the rollback's detail).
 */
import { createHash } from 'node:crypto';
import type { KubernetesObjectApi } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type {
  ApplyRequest,
  ApplyResult,
  ClusterTarget,
  NamespaceInventory,
  RollbackRequest,
  RollbackResult,
  TargetLocation,
  VerifyRequest,
  VerifyResult,
} from '../../ports/cluster-target';
import { describeLocation } from '../../ports/cluster-target';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import { loadKubernetesClient } from './client-loader';
import { connectCluster, type ClusterConnection, type ClusterConnectionSpec } from './connection';
import { isNotFound, isUnknownKind, translateKubernetesError } from './failures';
import {
  applyIdOf,
  COMPONENT_LABEL,
  configOf,
  describeRef,
  FIELD_MANAGER,
  holds,
  locationSelector,
  refOf,
  restorableConfig,
  sameRef,
  SERVICE_LABEL,
  stamp,
  type KubeObject,
  type ObjectRef,
} from './objects';
import { ApplyRecords, type ApplyEntry, type ApplyRecord } from './records';
import { judgeRollout, type DeploymentLike } from './rollout';

export const DEFAULT_STATE_NAMESPACE = 'deploy-platform-system';
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 5 * 60_000;

export interface KubernetesClusterTargetOptions {
  /** How to reach each cluster named by the environment policy. */
  clusters: Readonly<Record<string, ClusterConnectionSpec>>;
  /** Where apply records are kept on each cluster. */
  stateNamespace?: string;
  /** How often a rollout check reads the Deployment. */
  pollIntervalMs?: number;
  /** Used when a verify request names no timeout. */
  defaultRolloutTimeoutMs?: number;
}

/** The kinds each location may hold, listed to find what an apply no longer renders (pruning). */
const LOCATION_KINDS: Record<TargetLocation['component'], { apiVersion: string; kind: string }[]> = {
  app: [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'Service' },
    { apiVersion: 'v1', kind: 'ServiceAccount' },
  ],
  mesh: [
    { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService' },
    { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule' },
  ],
  namespace: [
    { apiVersion: 'v1', kind: 'ResourceQuota' },
    { apiVersion: 'v1', kind: 'LimitRange' },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
    { apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication' },
    { apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy' },
  ],
};

/** Deleted last: deleting a Namespace deletes everything in it. */
const deleteOrder = (ref: ObjectRef): number => (ref.kind === 'Namespace' ? 1 : 0);

export function applyIdOfKey(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createKubernetesClusterTarget(options: KubernetesClusterTargetOptions): ClusterTarget {
  const stateNamespace = options.stateNamespace ?? DEFAULT_STATE_NAMESPACE;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const defaultTimeoutMs = options.defaultRolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS;
  const connections = new Map<string, Promise<Cluster>>();

  const cluster = (name: string): Promise<Cluster> => {
    const spec = options.clusters[name];
    if (!spec) {
      return Promise.reject(
        ApplicationFailure.create({
          type: ErrorType.ConfigurationInvalid,
          nonRetryable: true,
          message: `no connection is configured for cluster ${name} (known: ${Object.keys(options.clusters).join(', ') || 'none'}); add it under clusters: in the environment policy file`,
        }),
      );
    }
    let found = connections.get(name);
    if (!found) {
      found = connectCluster(name, spec).then((connection) => new Cluster(name, connection, stateNamespace));
      // A failed connection (EKS unreachable) is tried again on the next call, not cached.
      found.catch(() => connections.delete(name));
      connections.set(name, found);
    }
    return found;
  };

  return {
    inventory: async (location) => (await cluster(location.cluster)).inventory(location.namespace),
    apply: async (request) => (await cluster(request.location.cluster)).apply(request),
    rollback: async (request) =>
      request.location ? (await cluster(request.location.cluster)).rollback(request) : rollback(await Promise.all(Object.keys(options.clusters).map(cluster)), request),
    verify: async (request, onProgress) =>
      (await cluster(request.location.cluster)).verify(request, { pollIntervalMs, timeoutMs: request.timeoutMs ?? defaultTimeoutMs }, onProgress),
  };
}

/** A rollback that names only the apply's key (older runs): its record is on whichever cluster the apply went to. */
async function rollback(clusters: Cluster[], request: RollbackRequest): Promise<RollbackResult> {
  for (const cluster of clusters) {
    const result = await cluster.rollback(request);
    if (result.rolledBack) return result;
  }
  return { rolledBack: false };
}

class Cluster {
  private readonly records: ApplyRecords;

  constructor(
    readonly name: string,
    private readonly connection: ClusterConnection,
    stateNamespace: string,
  ) {
    this.records = new ApplyRecords(() => connection.objects(), stateNamespace);
  }

  private async call<T>(verb: string, target: { ref?: ObjectRef; what?: string }, work: (api: KubernetesObjectApi) => Promise<T>): Promise<T> {
    try {
      return await work(await this.connection.objects());
    } catch (error) {
      throw translateKubernetesError(error, { verb, ...target, cluster: this.name, server: this.connection.server });
    }
  }

  private async read(ref: ObjectRef): Promise<KubeObject | undefined> {
    return this.call('read', { ref }, async (api) => {
      try {
        return (await api.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } })) as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  private async serverSideApply(object: KubeObject): Promise<KubeObject> {
    const { PatchStrategy } = await loadKubernetesClient();
    return this.call('apply', { ref: refOf(object) }, async (api) =>
      (await api.patch(object, undefined, undefined, FIELD_MANAGER, false, PatchStrategy.ServerSideApply)) as KubeObject,
    );
  }

  /** Deletes the object the apply saw (uid precondition), so a re-created namesake is left alone. */
  private async remove(ref: ObjectRef, uid?: string): Promise<void> {
    await this.call('delete', { ref }, async (api) => {
      try {
        await api.delete(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } },
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
          uid ? { preconditions: { uid } } : undefined,
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  /** Objects of one kind in a namespace matching a label selector; a kind the cluster does not serve has none. */
  private async list(namespace: string, { apiVersion, kind }: { apiVersion: string; kind: string }, labelSelector: string): Promise<KubeObject[]> {
    return this.call('list', { what: `${kind} in ${namespace}` }, async (api) => {
      try {
        const list = await api.list<KubeObject>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
        return list.items.map((item) => ({ ...item, apiVersion, kind }));
      } catch (error) {
        if (isUnknownKind(error)) return [];
        throw error;
      }
    });
  }

  /** What the location holds now, found by its labels. */
  private async objectsAt(location: TargetLocation, alsoKinds: { apiVersion: string; kind: string }[]): Promise<KubeObject[]> {
    const kinds = [...LOCATION_KINDS[location.component]];
    for (const extra of alsoKinds) if (extra.kind !== 'Namespace' && !kinds.some((k) => k.kind === extra.kind)) kinds.push(extra);
    const found: KubeObject[] = [];
    for (const kind of kinds) found.push(...(await this.list(location.namespace, kind, locationSelector(location))));
    if (location.component === 'namespace') {
      const namespace = await this.read({ apiVersion: 'v1', kind: 'Namespace', name: location.namespace });
      if (namespace && namespace.metadata.labels?.[COMPONENT_LABEL] === 'namespace') found.push(namespace);
    }
    return found;
  }

  async inventory(namespace: string): Promise<NamespaceInventory> {
    const exists = (await this.read({ apiVersion: 'v1', kind: 'Namespace', name: namespace })) !== undefined;
    if (!exists) return { services: [], namespaceExists: false };
    const services = new Set<string>();
    for (const kind of [...LOCATION_KINDS.app, ...LOCATION_KINDS.mesh]) {
      for (const item of await this.list(namespace, kind, SERVICE_LABEL)) {
        const service = item.metadata.labels?.[SERVICE_LABEL];
        if (service) services.add(service);
      }
    }
    return { services: [...services].sort(), namespaceExists: true };
  }

  /** Snapshot of every object this apply will touch, taken once, before the first change. */
  private async plan(request: ApplyRequest, id: string, configs: KubeObject[]): Promise<ApplyRecord> {
    const entries: ApplyEntry[] = [];
    for (const config of configs) {
      const ref = refOf(config);
      const live = await this.read(ref);
      const beforeApply = applyIdOf(live);
      entries.push({
        ref,
        action: live && holds(live, config) ? 'unchanged' : 'apply',
        before: live ? restorableConfig(live) : null,
        ...(beforeApply ? { beforeApply } : {}),
      });
    }
    const present = await this.objectsAt(request.location, configs.map(({ apiVersion, kind }) => ({ apiVersion, kind })));
    const pruned = present.filter((live) => !configs.some((config) => sameRef(refOf(config), refOf(live))));
    pruned.sort((a, b) => deleteOrder(refOf(a)) - deleteOrder(refOf(b)));
    for (const live of pruned) {
      const beforeApply = applyIdOf(live);
      entries.push({ ref: refOf(live), action: 'delete', before: restorableConfig(live), ...(live.metadata.uid ? { uid: live.metadata.uid } : {}), ...(beforeApply ? { beforeApply } : {}) });
    }
    return { key: request.idempotencyKey, id, location: request.location, state: 'applying', entries, startedAt: new Date().toISOString() };
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const id = applyIdOfKey(request.idempotencyKey);
    const configs = request.manifests.map((manifest) => configOf(manifest, request.location));
    let stored = await this.call('read', { what: 'the apply record' }, () => this.records.read(id));
    if (stored?.record.result && stored.record.state !== 'applying') return stored.record.result;
    if (!stored) {
      const planned = await this.plan(request, id, configs);
      stored = await this.call('create', { what: `the apply record in ${this.records.namespace}` }, () => this.records.create(planned));
    }
    const { record } = stored;
    for (const entry of record.entries) {
      if (entry.action === 'apply') {
        const config = configs.find((c) => sameRef(refOf(c), entry.ref));
        if (config) await this.serverSideApply(stamp(config, id));
      } else if (entry.action === 'delete') {
        await this.remove(entry.ref, entry.uid);
      }
    }
    const changedEntry = record.entries.find((entry) => entry.action !== 'unchanged');
    const result: ApplyResult = {
      revision: id,
      previousRevision: (changedEntry ?? record.entries[0])?.beforeApply ?? null,
      changed: changedEntry !== undefined,
    };
    await this.call('update', { what: 'the apply record' }, () => this.records.update({ ...record, state: 'applied', result }, stored.resourceVersion));
    return result;
  }

  async rollback(request: RollbackRequest): Promise<RollbackResult> {
    const id = applyIdOfKey(request.idempotencyKey);
    const stored = await this.call('read', { what: 'the apply record' }, () => this.records.read(id));
    if (!stored) return { rolledBack: false };
    const { record } = stored;
    if (record.state === 'rolledback' && record.rollback) return { rolledBack: true, revision: record.rollback.revision, detail: record.rollback.detail };

    const restored: string[] = [];
    const left: string[] = [];
    // Reverse order: namespaced objects are restored after, and deleted before, their namespace.
    for (const entry of [...record.entries].reverse()) {
      if (entry.action === 'unchanged') continue;
      const what = describeRef(entry.ref);
      const live = await this.read(entry.ref);
      if (entry.action === 'apply') {
        const owner = applyIdOf(live);
        if (!live) {
          left.push(`${what} (deleted since)`);
        } else if (owner !== id) {
          left.push(`${what} (applied since by ${owner ? `apply ${owner.slice(0, 12)}` : 'someone outside the platform'})`);
        } else if (entry.before === null) {
          await this.remove(entry.ref, live.metadata.uid);
          restored.push(`deleted ${what}`);
        } else {
          await this.serverSideApply(entry.before);
          restored.push(`restored ${what}`);
        }
      } else if (entry.before) {
        if (live) {
          left.push(`${what} (re-created since)`);
        } else {
          await this.serverSideApply(entry.before);
          restored.push(`re-created ${what}`);
        }
      }
    }
    const revision = `${id}-undone`;
    const detail = [
      restored.length > 0 ? restored.join(', ') : 'nothing to restore',
      ...(left.length > 0 ? [`left as another change made them: ${left.join(', ')}`] : []),
    ].join('; ');
    await this.call('update', { what: 'the apply record' }, () =>
      this.records.update({ ...record, state: 'rolledback', rollback: { at: new Date().toISOString(), revision, detail } }, stored.resourceVersion),
    );
    return { rolledBack: true, revision, detail };
  }

  async verify(request: VerifyRequest, { pollIntervalMs, timeoutMs }: { pollIntervalMs: number; timeoutMs: number }, onProgress?: (detail: string) => void): Promise<VerifyResult> {
    const where = describeLocation(request.location);
    if (!/^[0-9a-f]{40}$/.test(request.revision)) return { healthy: false, detail: `${request.revision} is not a revision of the Kubernetes target` };
    const stored = await this.call('read', { what: 'the apply record' }, () => this.records.read(request.revision));
    if (!stored) return { healthy: false, detail: `no apply ${request.revision.slice(0, 12)} is recorded on cluster ${this.name}` };
    const { record } = stored;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const verdicts: string[] = [];
      let waiting: string | undefined;
      for (const entry of record.entries) {
        if (entry.action === 'delete') continue;
        const what = describeRef(entry.ref);
        const live = await this.read(entry.ref);
        const expected = entry.action === 'unchanged' ? entry.beforeApply : request.revision;
        if (!live) return { healthy: false, detail: `${where}: ${what} is missing` };
        if (applyIdOf(live) !== expected) return { healthy: false, detail: `${where}: ${what} was changed since by ${applyIdOf(live) ?? 'someone outside the platform'}` };
        if (entry.ref.kind === 'Deployment') {
          const rollout = judgeRollout(live as DeploymentLike);
          if (rollout.state === 'failed') return { healthy: false, detail: `${where}: ${rollout.detail}` };
          if (rollout.state === 'progressing') waiting ??= rollout.detail;
          verdicts.push(rollout.detail);
        } else if (entry.ref.kind === 'Namespace') {
          const phase = (live as { status?: { phase?: string } }).status?.phase;
          if (phase && phase !== 'Active') return { healthy: false, detail: `${where}: namespace is ${phase}` };
        }
      }
      if (!waiting) {
        const objects = record.entries.filter((e) => e.action !== 'delete').length;
        return { healthy: true, detail: `${where}: ${objects} objects as applied${verdicts.length > 0 ? `; ${verdicts.join('; ')}` : ''}` };
      }
      if (Date.now() >= deadline) {
        return { healthy: false, detail: `${where}: rollout not complete after ${Math.round(timeoutMs / 1000)} s (the environment's rollout timeout): ${waiting}` };
      }
      onProgress?.(waiting);
      await sleep(pollIntervalMs);
    }
  }
}
