/**
 * The embedded-default cluster target: desired state committed to a GitOps repository, which
 * Argo CD or Flux syncs into the clusters. Rollback is a revert of the apply's commit.
 */
import type {
  ApplyRequest,
  ApplyResult,
  ClusterTarget,
  NamespaceInventory,
  RollbackRequest,
  RollbackResult,
  VerifyRequest,
  VerifyResult,
} from '../../ports/cluster-target';
import { rollbackConflict } from './failures';
import type { GitIdentity } from './git';
import { BranchIndex } from './branch-index';
import { GroupCommit } from './group-commit';
import { CLUSTERS_DIR, extraFilePaths, locationDir, manifestFiles, NAMESPACE_DIR, namespaceRoot } from './layout';
import { applyMessage, checkIdempotencyKey, revertMessage, Trailer } from './messages';
import { GitOpsRepository } from './repository';

export interface GitOpsClusterTargetOptions {
  /** A local non-bare repository; created with an initial commit when missing. */
  repoDir: string;
  branch?: string;
  /** Author and committer of every commit. */
  author?: GitIdentity;
  /** How long to wait for another process working on the same repository. */
  lockTimeoutMs?: number;
  /** Called with the arguments of every git subprocess this target spawns (tests and profiling count them). */
  onGitCommand?: (args: readonly string[]) => void;
}

export function createGitOpsClusterTarget({
  repoDir,
  branch = 'main',
  author = { name: 'deploy-platform', email: 'deploy-platform@localhost' },
  lockTimeoutMs = 60_000,
  onGitCommand,
}: GitOpsClusterTargetOptions): ClusterTarget {
  const repo = new GitOpsRepository({ repoDir, branch, author, lockTimeoutMs, onGitCommand });
  const index = new BranchIndex(repo, `${CLUSTERS_DIR}/`);
  const group = new GroupCommit(repo, index, (request) => apply(repo, request));
  return {
    // Applies waiting together are committed together (see GroupCommit), each as its own commit.
    apply: (request) => group.apply(request),
    rollback: (request) => repo.exclusive(() => rollback(repo, request)),
    // Reads need no lock: they look at one commit of the branch, never at the working tree (see
    // GitOpsRepository.read), so they neither wait for nor hold up the writers.
    verify: async (request, onProgress) => (await verifiedFromIndex(repo, index, request, onProgress)) ?? repo.read((tip) => verify(repo, tip, request, onProgress)),
    inventory: (location) => repo.read((tip) => inventory(repo, tip, location)),
  };
}

/** What the branch head holds under the namespace: its own objects and each service's directories. */
async function inventory(repo: GitOpsRepository, tip: string, { cluster, namespace }: { cluster: string; namespace: string }): Promise<NamespaceInventory> {
  const files = await repo.tree(tip, namespaceRoot(cluster, namespace));
  const services = new Set<string>();
  let namespaceExists = false;
  for (const path of files.keys()) {
    const [first = '', second] = path.split('/');
    if (first === NAMESPACE_DIR) namespaceExists = true;
    else if (second !== undefined) services.add(first);
  }
  return { services: [...services].sort(), namespaceExists };
}

/** One apply on its own, in a section already held: the path for what group commit does not take. */
async function apply(repo: GitOpsRepository, request: ApplyRequest): Promise<ApplyResult> {
  const key = checkIdempotencyKey(request.idempotencyKey);
  const dir = locationDir(request.location);
  const files = manifestFiles(request.manifests);
  const extraPaths = extraFilePaths(request.extraFiles);

  // A retry of an apply that already committed (the worker died before reporting) gets the first result.
  const applied = await repo.findByTrailer(Trailer.idempotencyKey, key);
  if (applied) return { revision: applied, previousRevision: await repo.lastChangeBefore(applied, dir), changed: true };

  await repo.replaceDir(dir, files);
  for (const path of extraPaths) await repo.writeFile(path, request.extraFiles?.[path] ?? '');
  await repo.stage(dir, [...[...files.keys()].map((name) => `${dir}/${name}`), ...extraPaths]);

  // Nothing differs (manifests and extra files alike): no commit, so nothing for a rollback to undo.
  if (!(await repo.hasStagedChanges())) {
    const head = await repo.head();
    return { revision: head, previousRevision: await repo.lastChange(head, dir), changed: false };
  }
  const { commit, parent } = await repo.commit(applyMessage({ request, dir, extraPaths }));
  return { revision: commit, previousRevision: parent ? await repo.lastChange(parent, dir) : null, changed: true };
}

async function rollback(repo: GitOpsRepository, request: RollbackRequest): Promise<RollbackResult> {
  const key = checkIdempotencyKey(request.idempotencyKey);
  const applied = await repo.findByTrailer(Trailer.idempotencyKey, key);
  if (!applied) return { rolledBack: false };

  const reverted = await repo.findByTrailer(Trailer.revertsKey, key);
  if (reverted) return { rolledBack: true, revision: reverted };

  const { conflicts } = await repo.stageRevert(applied);
  if (conflicts.length > 0) {
    const later = await repo.commitsSince(applied, conflicts);
    throw rollbackConflict(
      `cannot revert ${applied} (${key}): later commits changed the same files (${conflicts.join(', ')})` +
        `${later.length > 0 ? `: ${later.slice(0, 5).join('; ')}` : ''}. The repository is unchanged; resolve by hand.`,
    );
  }
  // Empty when later commits already undid the change; committed anyway as the record that it is rolled back.
  const { commit } = await repo.commit(revertMessage({ commit: applied, subject: await repo.subject(applied), key, audit: request.audit }), {
    allowEmpty: true,
  });
  return { rolledBack: true, revision: commit };
}

/**
 * Verify without git, when the branch index can vouch for the answer: the branch head is the
 * indexed tip, and the location's last change there is `revision`, one of our own imports, which
 * replaced the location with exactly the files compared here. Only "healthy" is answered so;
 * anything else (another writer's commit since, a later change of the location, a difference)
 * goes to `verify`, which asks git and explains what differs.
 */
async function verifiedFromIndex(repo: GitOpsRepository, index: BranchIndex, request: VerifyRequest, onProgress?: (detail: string) => void): Promise<VerifyResult | undefined> {
  const dir = locationDir(request.location);
  const expected = new Map<string, string>();
  for (const [name, yaml] of manifestFiles(request.manifests)) expected.set(name, await repo.blobId(yaml));
  const tip = await repo.branchTipFromRefFile();
  // From here on nothing awaits: the index cannot move between the check and the answer.
  const known = index.contentOf(dir);
  if (!tip || index.tip !== tip || known?.commit !== request.revision || known.files.size !== expected.size) return undefined;
  for (const [name, oid] of expected) if (known.files.get(name) !== oid) return undefined;
  onProgress?.(`checking that ${repo.branch} contains revision ${request.revision} (branch index)`);
  onProgress?.(`comparing ${expected.size} manifests with ${dir}/ at ${tip.slice(0, 12)} (branch index)`);
  return { healthy: true, detail: healthyDetail(dir, expected.size, repo.branch, tip) };
}

function healthyDetail(dir: string, manifests: number, branch: string, tip: string): string {
  return `${dir}/ holds the ${manifests} applied manifests intact at ${branch} ${tip.slice(0, 12)} (desired state only: a GitOps target does not observe the cluster)`;
}

/**
 * A GitOps target cannot observe the cluster: this checks that the desired state is committed
 * intact (the revision is on the branch, and the location holds exactly these manifests, byte for
 * byte, at the branch head). Whether Argo CD or Flux synced it and the rollout is healthy is for
 * the Kubernetes target to report, later.
 *
 * `tip` is the branch head resolved once for the whole check, so a commit landing meanwhile cannot
 * make the ancestry test and the tree comparison look at different heads.
 */
async function verify(repo: GitOpsRepository, tip: string, request: VerifyRequest, onProgress?: (detail: string) => void): Promise<VerifyResult> {
  const dir = locationDir(request.location);
  const expected = manifestFiles(request.manifests);
  const { revision } = request;

  onProgress?.(`checking that ${repo.branch} contains revision ${revision}`);
  if (!/^[0-9a-f]{7,64}$/i.test(revision) || !(await repo.hasCommit(revision))) {
    return { healthy: false, detail: `revision ${revision} does not exist in the GitOps repository` };
  }
  if (!(await repo.isAncestor(revision, tip))) {
    return { healthy: false, detail: `revision ${revision} is not on branch ${repo.branch} (history was rewritten or it was never pushed there)` };
  }

  onProgress?.(`comparing ${expected.size} manifests with ${dir}/ at ${tip.slice(0, 12)}`);
  const actual = await repo.tree(tip, dir);
  const differences: string[] = [];
  for (const [name, yaml] of expected) {
    const entry = actual.get(name);
    if (!entry) differences.push(`${name} is missing`);
    else if (entry.type !== 'blob' || !entry.mode.startsWith('100') || entry.oid !== (await repo.blobId(yaml))) differences.push(`${name} differs`);
  }
  for (const name of actual.keys()) if (!expected.has(name)) differences.push(`${name} is not part of the release`);

  if (differences.length > 0) {
    const since = await repo.commitsSince(revision, [dir], tip);
    return {
      healthy: false,
      detail:
        `${dir}/ at ${tip.slice(0, 12)} is not what revision ${revision.slice(0, 12)} applied: ${differences.join('; ')}` +
        `${since.length > 0 ? ` (changed since by ${since.slice(0, 3).join('; ')})` : ''}`,
    };
  }
  return { healthy: true, detail: healthyDetail(dir, expected.size, repo.branch, tip) };
}
