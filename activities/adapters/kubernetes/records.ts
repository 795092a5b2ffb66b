/**
 * Apply records: one ConfigMap per apply in the platform's state namespace on the cluster itself,
 * written BEFORE the first object is touched. It holds what each object was before (or that it
 * was absent), so an undo works after a crash mid-apply, from any worker, and a retried apply
 * reuses the first attempt's snapshot instead of mistaking its own half-done work for "before".
 */
import type { KubernetesObjectApi } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { ApplyResult, TargetLocation } from '../../ports/cluster-target';
import { loadKubernetesClient } from './client-loader';
import { apiStatusCode, isNotFound } from './failures';
import { FIELD_MANAGER, type KubeObject, type ObjectRef } from './objects';

export interface ApplyEntry {
  ref: ObjectRef;
  /** `apply`: server-side applied; `delete`: pruned (no longer rendered); `unchanged`: already held exactly this. */
  action: 'apply' | 'delete' | 'unchanged';
  /** What an undo restores; null when the object did not exist (the undo deletes it). */
  before: KubeObject | null;
  /** For a pruned object: the one this apply saw, so deleting never hits a re-created namesake. */
  uid?: string;
  /** The apply that had last changed it, when the platform had. */
  beforeApply?: string;
}

export interface ApplyRecord {
  key: string;
  id: string;
  location: TargetLocation;
  state: 'applying' | 'applied' | 'rolledback';
  entries: ApplyEntry[];
  startedAt: string;
  result?: ApplyResult;
  rollback?: { at: string; revision: string; detail: string };
}

const DATA_KEY = 'record.json';

export class ApplyRecords {
  private namespaceReady = false;

  constructor(
    private readonly api: () => Promise<KubernetesObjectApi>,
    readonly namespace: string,
  ) {}

  private header(id: string): KubeObject {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `apply-${id}`, namespace: this.namespace } };
  }

  async read(id: string): Promise<{ record: ApplyRecord; resourceVersion: string } | undefined> {
    const api = await this.api();
    try {
      const map = (await api.read(this.header(id))) as KubeObject & { data?: Record<string, string> };
      const text = map.data?.[DATA_KEY];
      if (!text) return undefined;
      return { record: JSON.parse(text) as ApplyRecord, resourceVersion: String(map.metadata.resourceVersion ?? '') };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async ensureNamespace(): Promise<void> {
    if (this.namespaceReady) return;
    const api = await this.api();
    const { PatchStrategy } = await loadKubernetesClient();
    await api.patch(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace, labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER } } },
      undefined,
      undefined,
      FIELD_MANAGER,
      false,
      PatchStrategy.ServerSideApply,
    );
    this.namespaceReady = true;
  }

  private body(record: ApplyRecord, resourceVersion?: string): KubeObject {
    const header = this.header(record.id);
    const labels: Record<string, string> = { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'deploy-platform.io/namespace': record.location.namespace, 'deploy-platform.io/component': record.location.component };
    return {
      ...header,
      metadata: { ...header.metadata, labels, ...(resourceVersion ? { resourceVersion } : {}) },
      data: { [DATA_KEY]: JSON.stringify(record) },
    };
  }

  /** Creates the record; when another attempt created it first, answers that one. */
  async create(record: ApplyRecord): Promise<{ record: ApplyRecord; resourceVersion: string }> {
    await this.ensureNamespace();
    const api = await this.api();
    try {
      const created = await api.create(this.body(record), undefined, undefined, FIELD_MANAGER);
      return { record, resourceVersion: String(created.metadata.resourceVersion ?? '') };
    } catch (error) {
      if (apiStatusCode(error) !== 409) throw error;
      const existing = await this.read(record.id);
      if (!existing) throw error;
      return existing;
    }
  }

  /** Replaces the record at the version read; a concurrent writer makes this fail and the activity retry. */
  async update(record: ApplyRecord, resourceVersion: string): Promise<string> {
    const api = await this.api();
    const replaced = await api.replace(this.body(record, resourceVersion), undefined, undefined, FIELD_MANAGER);
    return String(replaced.metadata.resourceVersion ?? '');
  }
}
