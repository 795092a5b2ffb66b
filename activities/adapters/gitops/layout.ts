/**
 * Where things live in the GitOps repository. Every path that reaches the file system or git is
 * built and checked here, so no input can escape the repository or land in another location.
 */
import { posix } from 'node:path';
import type { RenderedManifest } from '../../../shared/domain';
import type { TargetLocation } from '../../ports/cluster-target';
import { configurationInvalid } from './failures';

export const CLUSTERS_DIR = 'clusters';

/** Kubernetes names, cluster names and kinds: one path segment that can never mean "." or "..". */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * Namespace-level objects live beside the services of their namespace. Services are DNS labels,
 * which cannot start with `_`, so this directory can never collide with a service's.
 */
export const NAMESPACE_DIR = '_namespace';

/**
 * `clusters/<cluster>/<namespace>/<service>/<component>` for a service's component, or
 * `clusters/<cluster>/<namespace>/_namespace` for the namespace itself; relative to the repo root.
 */
export function locationDir(location: TargetLocation): string {
  const segments =
    location.component === 'namespace'
      ? { cluster: location.cluster, namespace: location.namespace }
      : { cluster: location.cluster, namespace: location.namespace, service: location.service, component: location.component };
  for (const [field, value] of Object.entries(segments)) {
    if (!SEGMENT.test(value)) throw configurationInvalid(`location.${field} ${JSON.stringify(value)} is not a valid path segment`);
  }
  return location.component === 'namespace'
    ? posix.join(CLUSTERS_DIR, location.cluster, location.namespace, NAMESPACE_DIR)
    : posix.join(CLUSTERS_DIR, location.cluster, location.namespace, location.service, location.component);
}

/** `clusters/<cluster>/<namespace>`: everything of one namespace, its services and its own objects. */
export function namespaceRoot(cluster: string, namespace: string): string {
  for (const [field, value] of Object.entries({ cluster, namespace })) {
    if (!SEGMENT.test(value)) throw configurationInvalid(`location.${field} ${JSON.stringify(value)} is not a valid path segment`);
  }
  return posix.join(CLUSTERS_DIR, cluster, namespace);
}

/** File name → yaml for the manifests of one location: `<kind-lowercase>-<name>.yaml`. */
export function manifestFiles(manifests: readonly RenderedManifest[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const manifest of manifests) {
    if (!SEGMENT.test(manifest.kind) || !SEGMENT.test(manifest.name)) {
      throw configurationInvalid(`manifest ${JSON.stringify(`${manifest.kind}/${manifest.name}`)} has a kind or name that is not a valid file name`);
    }
    const file = `${manifest.kind.toLowerCase()}-${manifest.name}.yaml`;
    if (files.has(file)) throw configurationInvalid(`two manifests map to the same file ${file} (same kind and name)`);
    files.set(file, manifest.yaml);
  }
  return files;
}

/**
 * Checks the paths of files stored beside the manifests (e.g. the chart). They must be plain
 * relative paths inside the repository and outside `clusters/`, which belongs to the locations:
 * a file there would make some location hold more than its manifests.
 */
export function extraFilePaths(extraFiles: Record<string, string> | undefined): string[] {
  return Object.keys(extraFiles ?? {}).map((path) => {
    const problem = extraPathProblem(path);
    if (problem) throw configurationInvalid(`extra file path ${JSON.stringify(path)} ${problem}`);
    return path;
  });
}

function extraPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (posix.isAbsolute(path) || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.includes('\\') || path.includes('\0')) return 'contains a backslash or NUL';
  const segments = path.split('/');
  if (segments.includes('..')) return 'contains ".."';
  if (segments.some((s) => s === '' || s === '.')) return 'is not normalised (empty or "." segment)';
  if (segments.some((s) => s.toLowerCase() === '.git')) return 'points into .git';
  if (segments[0] === CLUSTERS_DIR) return `is under ${CLUSTERS_DIR}/, which holds only manifests`;
  return undefined;
}

export const README = `# GitOps repository

Managed by the deployment platform: it commits the rendered manifests of every deployment here,
and Argo CD or Flux syncs them into the clusters. Do not commit by hand; the platform may discard
uncommitted changes in this working tree at any time.

## Layout

    clusters/<cluster>/<namespace>/<service>/<component>/<kind>-<name>.yaml
    clusters/<cluster>/<namespace>/_namespace/<kind>-<name>.yaml

- \`component\` is \`app\` (the workload) or \`mesh\` (its Istio wiring).
- \`_namespace\` holds what a landing zone sets up for the namespace: the Namespace, its quota,
  limits, network policies and role bindings.
- Each component directory holds exactly the manifests of the latest deployment; files the
  deployment no longer renders are removed.
- Other top-level folders (such as \`charts/\`) hold files stored beside the manifests, for
  example the chart a release was rendered from. Sync tools should watch \`clusters/\` only.

## History

Every deployment step is one commit. Its trailers tie it to the platform:

    Platform-Idempotency-Key: <deployment>/<run>/<step>
    Platform-Deployment: <deployment id>
    Platform-Run: <workflow run id>
    Change: <change request number>

A rollback is a revert of exactly that commit, with \`Platform-Reverts-Key: <key>\`.
`;
