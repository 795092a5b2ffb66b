/**
 * Group commit for applies: every apply waiting for the repository when the lock comes free is
 * committed in the same locked section, each as its own commit (a revision per apply, which a
 * rollback reverts), by one `git fast-import`. A group of any size costs four or five git
 * processes (the branch and the paths' types, the current files, the import, the working tree)
 * where one apply at a time cost seven each; the history questions come from the BranchIndex.
 *
 * Whatever the fast path cannot vouch for goes through the one-apply-at-a-time path instead, in
 * the same section: a repository with commit hooks (they must see each commit), a history the
 * index cannot follow (merges), a file in the way of a directory (that path reports it), or a
 * failed import.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ApplyRequest, ApplyResult } from '../../ports/cluster-target';
import type { BranchIndex } from './branch-index';
import { fastImportStream, type ImportedCommit } from './fast-import';
import { GitCommandError } from './git';
import { CLUSTERS_DIR, extraFilePaths, locationDir, manifestFiles } from './layout';
import { applyMessage, checkIdempotencyKey } from './messages';
import type { GitOpsRepository, Section, TreeEntry } from './repository';

interface Pending {
  request: ApplyRequest;
  key: string;
  dir: string;
  files: Map<string, string>;
  extraPaths: string[];
  /** Decided in the section, delivered once it has ended (the lock released, the marker written). */
  outcome?: Outcome;
  resolve(result: ApplyResult): void;
  reject(error: unknown): void;
}

/** A commit of the group before the import names it: `:<n>` until then. */
type Revision = string;

/** The most applies one section commits; later ones wait for the next section. */
const MAX_GROUP = 64;
/**
 * Every import leaves one small pack (`fastimport.unpackLimit=1`: loose objects made every later
 * git command slower, about 17 → 5 ms for a read-tree over 300 locations); after this many
 * imports a geometric repack merges the small packs, at a cost that does not grow with the history.
 */
const IMPORTS_PER_REPACK = 25;

export class GroupCommit {
  private readonly pending: Pending[] = [];
  private draining = false;
  private importsSinceRepack = 0;

  constructor(
    private readonly repo: GitOpsRepository,
    private readonly index: BranchIndex,
    /** One apply on its own, in a locked section that is already held (the path before group commit). */
    private readonly applyAlone: (request: ApplyRequest) => Promise<ApplyResult>,
  ) {}

  /** Checks the request at once (a bad one never joins a group), then waits for its group's commit. */
  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const key = checkIdempotencyKey(request.idempotencyKey);
    const dir = locationDir(request.location);
    const files = manifestFiles(request.manifests);
    const extraPaths = extraFilePaths(request.extraFiles);
    return new Promise<ApplyResult>((resolve, reject) => {
      this.pending.push({ request, key, dir, files, extraPaths, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        let group: Pending[] = [];
        const failure = await this.repo
          .exclusive(async (section) => {
            // Taken once the lock is ours: everything that arrived while we waited joins.
            group = this.pending.splice(0, MAX_GROUP);
            await this.commitGroup(group, section);
          })
          .then(
            () => undefined,
            (error: unknown) => ({ error }),
          );
        // Before the group was taken, the lock itself failed (a timeout): so does everything waiting.
        if (failure && group.length === 0) group = this.pending.splice(0);
        for (const entry of group) {
          const outcome = entry.outcome ?? failure ?? { error: new Error(`apply ${entry.key} was left undecided`) };
          if ('result' in outcome) entry.resolve(outcome.result);
          else entry.reject(outcome.error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async commitGroup(group: Pending[], section: Section): Promise<void> {
    const branchRef = `refs/heads/${this.repo.branch}`;
    const written = group.flatMap((e) => [...[...e.files.keys()].map((name) => `${e.dir}/${name}`), ...e.extraPaths]);
    const ancestors = [...new Set(written.flatMap(ancestorsOf))];
    const ancestorSet = new Set(ancestors);
    const extraPaths = [...new Set(group.flatMap((e) => e.extraPaths))];
    // cat-file reads one object name per line.
    if (written.some((path) => /[\n\r]/.test(path))) return this.oneAtATime(group, section);
    const [head, ...types] = await this.repo.lookup([`${branchRef}^{commit}`, ...[...ancestors, ...extraPaths].map((path) => `${branchRef}:${path}`)]);
    const fast =
      head !== undefined &&
      // A file where a directory must go, or a directory where a file must go: the path of one
      // apply at a time reports it (or replaces it) exactly as it always has.
      types.slice(0, ancestors.length).every((t) => t === undefined || t.type === 'tree') &&
      types.slice(ancestors.length).every((t) => t === undefined || t.type === 'blob') &&
      !written.some((path) => ancestorSet.has(path)) &&
      !(await this.repo.hasCommitHooks()) &&
      (await this.index.catchUp(head.oid));
    if (!fast || !(await this.importGroup(group, head.oid, extraPaths, section))) await this.oneAtATime(group, section);
  }

  /** The fast path; false when the import failed (nothing was committed, or it is found again by key). */
  private async importGroup(group: Pending[], tip: string, extraPaths: readonly string[], section: Section): Promise<boolean> {
    // Retries of applies that committed earlier need no files: neither does a group of only those.
    const fresh = group.filter((e) => !this.index.appliedBy(e.key));
    const current = fresh.length === 0 ? new Map<string, TreeEntry>() : await this.repo.entries(tip, [...new Set(fresh.map((e) => `${e.dir}/`)), ...extraPaths]);
    const changedHere = new Map<string, Revision>();
    const lastChangeOf = (dir: string): Revision | null => changedHere.get(dir) ?? this.index.lastChangeOf(dir);
    const commits: Array<ImportedCommit & { key: string; paths: string[]; dir: string; blobs: Map<string, string> }> = [];
    type Planned = { revision: Revision; previousRevision: Revision | null; changed: boolean };
    const outcomes = new Map<Pending, Planned | 'earlier'>();
    const byKey = new Map<string, Pending>();
    let head: Revision = tip;

    for (const entry of group) {
      const first = byKey.get(entry.key);
      if (first) {
        // The same apply twice in one group (a retry while the first attempt still waited): one answer.
        outcomes.set(entry, outcomes.get(first) ?? 'earlier');
        continue;
      }
      if (this.index.appliedBy(entry.key)) {
        outcomes.set(entry, 'earlier');
        continue;
      }
      byKey.set(entry.key, entry);
      const wanted = new Map<string, string>();
      for (const [name, content] of entry.files) wanted.set(`${entry.dir}/${name}`, content);
      for (const path of entry.extraPaths) wanted.set(path, entry.request.extraFiles?.[path] ?? '');
      const oids = new Map<string, string>();
      for (const [path, content] of wanted) oids.set(path, await this.repo.blobId(content));
      const paths = changedPaths(current, entry.dir, oids);
      if (paths.length === 0) {
        outcomes.set(entry, { revision: head, previousRevision: lastChangeOf(entry.dir), changed: false });
        continue;
      }
      const previousRevision = lastChangeOf(entry.dir);
      head = `:${commits.length + 1}`;
      const blobs = new Map([...entry.files.keys()].map((name) => [name, oids.get(`${entry.dir}/${name}`) ?? ''] as const));
      commits.push({
        key: entry.key,
        paths,
        dir: entry.dir,
        blobs,
        replaces: [entry.dir],
        files: wanted,
        message: applyMessage({ request: entry.request, dir: entry.dir, extraPaths: entry.extraPaths }),
      });
      outcomes.set(entry, { revision: head, previousRevision, changed: true });
      for (const path of paths) for (const dir of [...ancestorsOf(path), path]) if (dir.startsWith(`${CLUSTERS_DIR}/`)) changedHere.set(dir, head);
      for (const path of [...current.keys()]) if (path.startsWith(`${entry.dir}/`)) current.delete(path);
      for (const [path, oid] of oids) current.set(path, { mode: '100644', type: 'blob', oid });
    }

    const names = new Map<Revision, string>();
    if (commits.length > 0) {
      let printed: string;
      try {
        printed = await this.repo.fastImport(fastImportStream({ branch: this.repo.branch, parent: tip, identity: this.repo.author, commits }));
      } catch {
        // Whatever the import did not commit, the path of one apply at a time does; what it did
        // commit, that path finds by key. The working tree may lag behind the branch: reset it first.
        await this.repo.discardChanges();
        return false;
      }
      const lines = printed.trim().split('\n');
      if (lines.length !== commits.length || !lines.every((line) => /^[0-9a-f]{40,64}$/.test(line))) {
        // Committed or not, a retry finds out by key; the index catches up from the branch.
        throw new GitCommandError('git fast-import', 'unexpected answer', `expected ${commits.length} commit names, got: ${printed.slice(0, 500)}`);
      }
      commits.forEach((commit, i) => names.set(`:${i + 1}`, lines[i] ?? ''));
      const newTip = names.get(`:${commits.length}`) ?? '';
      await this.repo.checkOut(tip, newTip).catch(async () => {
        await this.repo.discardChanges().catch(() => section.suspect());
      });
      let parent = tip;
      for (const [i, commit] of commits.entries()) {
        const name = names.get(`:${i + 1}`) ?? '';
        this.index.advance({ commit: name, parent, key: commit.key, paths: commit.paths, dir: commit.dir, files: commit.blobs });
        parent = name;
      }
      if (++this.importsSinceRepack >= IMPORTS_PER_REPACK) {
        this.importsSinceRepack = 0;
        await this.repo.repackGeometrically().catch(() => undefined); // only housekeeping: the next one tries again
      }
    }

    const named = (revision: Revision): string => names.get(revision) ?? revision;
    for (const entry of group) {
      const outcome = outcomes.get(entry);
      if (outcome === 'earlier' || outcome === undefined) {
        // A retry of an apply that committed in an earlier section.
        const applied = this.index.appliedBy(entry.key);
        if (!applied) {
          settle(entry, { error: new Error(`apply ${entry.key} was neither committed nor found`) });
          continue;
        }
        await this.repo.lastChangeBefore(applied, entry.dir).then(
          (previousRevision) => settle(entry, { result: { revision: applied, previousRevision, changed: true } }),
          (error: unknown) => settle(entry, { error }),
        );
        continue;
      }
      settle(entry, { result: { revision: named(outcome.revision), previousRevision: outcome.previousRevision && named(outcome.previousRevision), changed: outcome.changed } });
    }
    return true;
  }

  /** The path before group commit, each apply in turn; one apply's failure is its own. */
  private async oneAtATime(group: Pending[], section: Section): Promise<void> {
    for (const entry of group) {
      try {
        settle(entry, { result: await this.applyAlone(entry.request) });
      } catch (error) {
        settle(entry, { error });
        // As `exclusive` does for a failed section: leave the next apply a clean tree, and no
        // clean marker after a failure that may have left debris.
        if (!(error instanceof ApplicationFailure)) section.suspect();
        const cleaned = await this.repo.discardChanges().then(
          () => true,
          () => false,
        );
        if (!cleaned) {
          section.suspect();
          for (const rest of group) settle(rest, { error });
          return;
        }
      }
    }
  }
}

type Outcome = { result: ApplyResult } | { error: unknown };

/** An entry's first outcome is its answer. */
function settle(entry: Pending, outcome: Outcome): void {
  entry.outcome ??= outcome;
}

/**
 * Paths whose content an apply would change (`wanted`: path → blob id): files under `dir` that go
 * or differ, files it adds, and extra files that differ. Empty when the apply changes nothing (no
 * commit, as before).
 */
function changedPaths(current: ReadonlyMap<string, TreeEntry>, dir: string, wanted: ReadonlyMap<string, string>): string[] {
  const changed = new Set<string>();
  for (const path of current.keys()) if (path.startsWith(`${dir}/`) && !wanted.has(path)) changed.add(path);
  for (const [path, oid] of wanted) {
    const entry = current.get(path);
    if (!entry || entry.type !== 'blob' || entry.mode !== '100644' || entry.oid !== oid) changed.add(path);
  }
  return [...changed].sort();
}

/** `a/b/c` → `a`, `a/b`. */
function ancestorsOf(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(1).map((_, i) => segments.slice(0, i + 1).join('/'));
}
