/**
 * The objects the Kubernetes target applies: parsed from the rendered manifests, stamped with the
 * labels that say which location owns them and the annotations that say which apply put them
 * there, and the reverse — what of a live object is worth restoring.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { RenderedManifest } from '../../../shared/domain';
import type { TargetLocation } from '../../ports/cluster-target';

/** The one field manager every server-side apply of the platform uses. */
export const FIELD_MANAGER = 'deploy-platform';

const PREFIX = 'deploy-platform.io';
/** Which location an object belongs to: `app`, `mesh` or `namespace`. */
export const COMPONENT_LABEL = `${PREFIX}/component`;
/** The service an `app` or `mesh` object belongs to. */
export const SERVICE_LABEL = `${PREFIX}/service`;
/** The apply (sha256 of its idempotency key, shortened) that last changed the object. */
export const APPLY_ANNOTATION = `${PREFIX}/apply`;
/**
 * What that apply sent (JSON, without this annotation itself): the exact configuration an undo
 * restores, as `kubectl apply` keeps its last-applied-configuration.
 */
export const LAST_APPLIED_ANNOTATION = `${PREFIX}/last-applied`;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped kinds (Namespace). */
  namespace?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export const CLUSTER_SCOPED_KINDS = new Set(['Namespace']);

export function refOf(object: KubeObject): ObjectRef {
  const { apiVersion, kind } = object;
  const { name, namespace } = object.metadata;
  return CLUSTER_SCOPED_KINDS.has(kind) ? { apiVersion, kind, name } : { apiVersion, kind, name, ...(namespace ? { namespace } : {}) };
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.kind === b.kind && a.apiVersion.split('/')[0] === b.apiVersion.split('/')[0] && a.name === b.name && a.namespace === b.namespace;
}

/** The labels that tie an object to its location, so a later apply can prune what it no longer renders. */
export function locationLabels(location: TargetLocation): Record<string, string> {
  return location.component === 'namespace'
    ? { [COMPONENT_LABEL]: 'namespace' }
    : { [COMPONENT_LABEL]: location.component, [SERVICE_LABEL]: location.service };
}

export function locationSelector(location: TargetLocation): string {
  return Object.entries(locationLabels(location))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function parseManifest(manifest: RenderedManifest): KubeObject {
  const object = parse(manifest.yaml) as KubeObject | null;
  if (!object || typeof object !== 'object' || !object.metadata?.name || object.kind !== manifest.kind) {
    throw new Error(`manifest ${manifest.kind} ${manifest.name} does not parse to a ${manifest.kind}`);
  }
  return object;
}

/**
 * The configuration one apply sends: the rendered object plus the location labels; the apply
 * annotations are added by `stamp`, so two applies of the same configuration compare equal.
 */
export function configOf(manifest: RenderedManifest, location: TargetLocation): KubeObject {
  const object = parseManifest(manifest);
  return { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...locationLabels(location) } } };
}

export function stamp(config: KubeObject, applyId: string): KubeObject {
  return {
    ...config,
    metadata: {
      ...config.metadata,
      annotations: { ...config.metadata.annotations, [APPLY_ANNOTATION]: applyId, [LAST_APPLIED_ANNOTATION]: JSON.stringify(config) },
    },
  };
}

export function applyIdOf(live: KubeObject | undefined): string | undefined {
  return live?.metadata.annotations?.[APPLY_ANNOTATION];
}

/** The configuration the platform last applied to a live object, when the platform applied it. */
export function lastAppliedOf(live: KubeObject): KubeObject | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as KubeObject;
  } catch {
    return undefined;
  }
}

/** True when the live object already holds exactly this configuration from an earlier apply. */
export function holds(live: KubeObject, config: KubeObject): boolean {
  const last = lastAppliedOf(live);
  return last !== undefined && isDeepStrictEqual(last, config);
}

/** Written by the API server or controllers; restoring them would claim fields that are not ours. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers'];
const SERVER_ANNOTATIONS = ['deployment.kubernetes.io/revision', 'kubectl.kubernetes.io/last-applied-configuration'];

/**
 * What an undo restores for an object that existed before this apply: the configuration the
 * platform applied (exact), or, for an object someone else made, its spec as it was (best effort:
 * server-written metadata and status left out).
 */
export function restorableConfig(live: KubeObject): KubeObject {
  const last = lastAppliedOf(live);
  if (last) return stamp(last, applyIdOf(live) ?? 'restored');
  const metadata: KubeObject['metadata'] = { ...live.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (metadata.annotations) {
    const annotations = { ...metadata.annotations };
    for (const key of SERVER_ANNOTATIONS) delete annotations[key];
    metadata.annotations = annotations;
  }
  const { status: _status, ...rest } = live;
  return { ...rest, metadata };
}
