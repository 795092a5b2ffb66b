/**
 * One GitOps repository on disk: creating it, locking it, bringing it back to a clean state after
 * a crash, and the few git questions and commands the cluster target needs.
 *
 * Every git command is a fork and exec, and writers run one at a time, so the locked sections are
 * kept short: reads run without the lock (see `read`), recovery runs only when the repository may
 * not be as this process left it (see `exclusive`), and hooks are spawned only when they exist.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { configurationInvalid, targetRejected } from './failures';
import { createGit, type Git, type GitIdentity, GitCommandError } from './git';
import { README } from './layout';
import { initialMessage } from './messages';
import { withFileLock, withProcessMutex } from './lock';

export interface RepositoryOptions {
  repoDir: string;
  branch: string;
  author: GitIdentity;
  lockTimeoutMs: number;
  /** See GitOptions.onCommand. */
  onGitCommand?: (args: readonly string[]) => void;
}

/** What a locked section's work may tell `exclusive` besides its result. */
export interface Section {
  /**
   * The work failed in part in a way that may have left debris (a git command died, see
   * `exclusive`) but still returns: no clean marker then, so the next holder recovers.
   */
  suspect(): void;
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

const LOCK_FILE = 'deploy-platform.lock';
const MESSAGE_FILE = 'PLATFORM_COMMIT_MSG';
/** In the git directory: "the last locked section ended with a clean repository" (see `exclusive`). */
export const CLEAN_MARKER_FILE = 'deploy-platform.clean';

/**
 * Names this process in clean markers. Random per process, never a pid: a restarted worker that
 * reuses a pid must not take its predecessor's marker for its own.
 */
const PROCESS_TOKEN = randomUUID();

/** Where things are, asked of git once per repository (one `rev-parse` for all of them). */
interface Layout {
  /** This working tree's git directory: HEAD, index, our lock and marker. */
  gitDir: string;
  /** Shared by all working trees of the repository: refs and objects (the same as gitDir unless a linked worktree). */
  commonDir: string;
  /** Honours core.hooksPath; read once, so changing it needs a worker restart. */
  hooksDir: string;
  objectFormat: string;
}

export class GitOpsRepository {
  readonly root: string;
  readonly branch: string;
  private readonly git: Git;
  private layout: Promise<Layout> | undefined;

  /** Author and committer of every commit. */
  get author(): GitIdentity {
    return this.options.author;
  }

  constructor(private readonly options: RepositoryOptions) {
    this.root = resolve(options.repoDir);
    this.branch = options.branch;
    checkBranchName(options.branch);
    checkIdentity(options.author);
    this.git = createGit(this.root, options.author, { onCommand: options.onGitCommand });
  }

  /**
   * Runs `fn` as the repository's only writer, on a clean working tree at the branch head. Both
   * locks are needed: the file lock alone would let two activities of this process interleave,
   * because they share a pid.
   *
   * Recovery (`recover`: half a dozen git commands, two of them walking the whole working tree) is
   * skipped when this very process ended the previous locked section with a clean repository and
   * nothing has touched it since. The clean marker is the proof, and the protocol is:
   * - a section removes the marker before doing anything else, so a holder that dies anywhere in
   *   its section (any process, any point) leaves no marker, and the next holder recovers;
   * - it writes the marker, with this process's token, only as its last step, after success or
   *   after the cleanup of a deliberate failure succeeded;
   * - the next holder skips recovery only if the marker holds this process's token and branch and
   *   the fingerprint of HEAD, index and branch ref still matches (a person's `git add`,
   *   `checkout` or `reset` changes it), no git lock or in-progress revert/merge is lying around,
   *   and the lock was not taken over from a dead holder. Anything else recovers in full.
   * Another process's marker is never trusted: its token is not ours, so it recovers.
   */
  async exclusive<T>(fn: (section: Section) => Promise<T>): Promise<T> {
    return withProcessMutex(this.root, async () => {
      const layout = await this.open();
      return withFileLock(join(layout.gitDir, LOCK_FILE), { timeoutMs: this.options.lockTimeoutMs }, async ({ tookOverStaleLock }) => {
        const marker = join(layout.gitDir, CLEAN_MARKER_FILE);
        const leftClean = !tookOverStaleLock && (await this.leftCleanByUs(layout, marker));
        await fs.rm(marker, { force: true });
        if (!leftClean) await this.recover(layout);
        let result: T;
        let suspect = false;
        try {
          result = await fn({ suspect: () => void (suspect = true) });
        } catch (error) {
          // Leave no half-applied change behind for people looking at the repository; the next
          // operation would reset it anyway, so a failure here must not hide the original error.
          const cleaned = await this.cleanTree().then(
            () => true,
            () => false,
          );
          // Only our own verdicts (a hook's refusal, a conflict, a bad request) are known to leave
          // nothing but what cleanTree undoes; a git command that failed or was killed may have left
          // a ref lock behind, so after it the next holder recovers in full.
          if (cleaned && error instanceof ApplicationFailure) await this.markClean(layout, marker);
          throw error;
        }
        if (!suspect) await this.markClean(layout, marker);
        return result;
      });
    });
  }

  /**
   * Runs `fn` with the commit the branch points at, without any lock: `fn` must only read refs and
   * objects (rev-list, ls-tree, cat-file, merge-base, log), never HEAD, the index or the working
   * tree, which a writer rewrites under its lock. Git supports such readers beside a writer:
   * - a ref changes by writing `<ref>.lock` in full and rename(2)ing it over the ref (packed-refs
   *   likewise), so a reader sees the old commit or the new one, never a half-moved branch; and
   *   refs are packed by writing packed-refs before the loose ref is deleted, so the branch never
   *   goes missing in between;
   * - objects are immutable and written before the ref that makes them reachable, so everything
   *   reachable from the commit we resolved is complete; gc (run in the foreground by a writer's
   *   commit) deletes only unreachable objects older than its expiry, and a reader whose pack was
   *   replaced by a repack finds the objects in the new one.
   * The branch is resolved once and `fn` reads everything from that commit, so one call sees one
   * consistent state: the branch before a concurrent commit or after it, either a true answer.
   */
  async read<T>(fn: (tip: string) => Promise<T>): Promise<T> {
    await this.open();
    const tip = await this.branchTip();
    if (tip) return fn(tip);
    // No commit on the branch yet (a repository made by hand, or a new branch name): a writer
    // creates it, as every operation did before reads went lock-free.
    return this.exclusive(async () => fn(await this.head()));
  }

  async head(): Promise<string> {
    return (await this.git.run(['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
  }

  /**
   * The commit the branch points at, read from its loose ref file without a git process; undefined
   * when there is none to read (a packed ref, a reftable repository): then ask git. Git replaces
   * the file by rename, so a reader sees the old commit or the new one.
   */
  async branchTipFromRefFile(): Promise<string | undefined> {
    const { commonDir } = await this.open();
    const content = await fs.readFile(join(commonDir, 'refs', 'heads', ...this.branch.split('/')), 'utf8').catch(() => '');
    return /^[0-9a-f]{40,64}\n$/.test(content) ? content.trim() : undefined;
  }

  /** The commit the branch points at, or undefined when the branch has none. */
  private async branchTip(): Promise<string | undefined> {
    const { stdout } = await this.git.run(['rev-parse', '--verify', '-q', `refs/heads/${this.branch}^{commit}`], { okExitCodes: [0, 1] });
    return stdout.trim() || undefined;
  }

  async hasCommit(revision: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['cat-file', '-e', `${revision}^{commit}`], { okExitCodes: 'any' });
    return exitCode === 0;
  }

  /** Whether `revision` is `tip` or one of its ancestors. */
  async isAncestor(revision: string, tip: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['merge-base', '--is-ancestor', revision, tip], { okExitCodes: [0, 1] });
    return exitCode === 0;
  }

  async subject(commit: string): Promise<string> {
    return (await this.git.run(['log', '-1', '--format=%s', commit, '--'])).stdout.trim();
  }

  /**
   * The oldest commit on the branch with `trailer: value`, compared exactly. `--grep` only narrows
   * the search; it matches substrings anywhere in the message, so the parsed trailers decide.
   */
  async findByTrailer(trailer: string, value: string): Promise<string | undefined> {
    const format = `%H%x1f%(trailers:key=${trailer},valueonly,unfold,separator=%x1f)%x1e`;
    const { stdout } = await this.git.run(['log', '--fixed-strings', `--grep=${value}`, `--format=${format}`, `refs/heads/${this.branch}`, '--']);
    const matches = stdout
      .split('\x1e')
      .map((record) => record.replace(/^\n/, '').split('\x1f'))
      .filter(([commit, ...values]) => commit && values.includes(value))
      .map(([commit]) => commit as string);
    return matches.at(-1);
  }

  /** The last commit touching `dir` strictly before `commit`, or null when there is none. */
  async lastChangeBefore(commit: string, dir: string): Promise<string | null> {
    const [, parent] = (await this.git.run(['rev-list', '--parents', '-n', '1', commit, '--'])).stdout.trim().split(' ');
    return parent ? this.lastChange(parent, dir) : null;
  }

  /** The last commit up to and including `from` that touched `dir`, or null. */
  async lastChange(from: string, dir: string): Promise<string | null> {
    return (await this.git.run(['rev-list', '-n', '1', from, '--', dir])).stdout.trim() || null;
  }

  /** Files under `dir` at `revision`, by path relative to `dir`. */
  async tree(revision: string, dir: string): Promise<Map<string, TreeEntry>> {
    const { stdout } = await this.git.run(['ls-tree', '-r', '-z', '--full-tree', revision, '--', `${dir}/`]);
    const entries = new Map<string, TreeEntry>();
    for (const line of stdout.split('\0')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const [mode = '', type = '', oid = ''] = line.slice(0, tab).split(' ');
      const path = line.slice(tab + 1);
      if (path.startsWith(`${dir}/`)) entries.set(path.slice(dir.length + 1), { mode, type, oid });
    }
    return entries;
  }

  /** The object id git gives a blob with these bytes, so contents compare without reading blobs back. */
  async blobId(content: string): Promise<string> {
    const { objectFormat } = await this.open();
    const bytes = Buffer.from(content, 'utf8');
    return createHash(objectFormat === 'sha256' ? 'sha256' : 'sha1')
      .update(`blob ${bytes.length}\0`)
      .update(bytes)
      .digest('hex');
  }

  /**
   * The object name and type of each `revision:path`-style spec (or ref), in one process; undefined
   * for a spec that names nothing.
   */
  async lookup(specs: readonly string[]): Promise<Array<{ oid: string; type: string } | undefined>> {
    if (specs.some((spec) => /[\n\r]/.test(spec))) throw new GitCommandError('git cat-file --batch-check', 'refused', 'a spec holds a newline');
    const { stdout } = await this.git.run(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: specs.map((spec) => `${spec}\n`).join('') });
    const lines = stdout.split('\n');
    return specs.map((_, i) => {
      const [oid = '', type = ''] = (lines[i] ?? '').split(' ');
      return /^[0-9a-f]{40,64}$/.test(oid) && type !== 'missing' ? { oid, type } : undefined;
    });
  }

  /** Every file (recursively) at or under `paths` at `revision`, by full path; one process. */
  async entries(revision: string, paths: readonly string[]): Promise<Map<string, TreeEntry>> {
    const entries = new Map<string, TreeEntry>();
    if (paths.length === 0) return entries;
    const { stdout } = await this.git.run(['ls-tree', '-r', '-z', '--full-tree', revision, '--', ...paths]);
    for (const line of stdout.split('\0')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const [mode = '', type = '', oid = ''] = line.slice(0, tab).split(' ');
      entries.set(line.slice(tab + 1), { mode, type, oid });
    }
    return entries;
  }

  /**
   * Commits of `range` (e.g. `a..b`), oldest first, each as `format` followed by the paths it
   * changed, NUL-separated (`git log -z --name-only`). One process, walking only the range.
   */
  async log(range: string, format: string): Promise<string> {
    return (await this.git.run(['log', '-z', '--reverse', '--no-renames', `--format=${format}`, '--name-only', range, '--'])).stdout;
  }

  /**
   * Runs `git fast-import` on `stream` (which must end with `done`, so a cut-off stream changes
   * nothing) and returns what it printed: the answers to the stream's `get-mark` commands. It moves
   * the branch but leaves HEAD's index and working tree behind: follow with `checkOut`.
   */
  async fastImport(stream: string): Promise<string> {
    const { gitDir } = await this.open();
    try {
      return (await this.git.run(['fast-import', '--quiet', '--date-format=now'], { input: stream })).stdout;
    } catch (error) {
      // fast-import leaves a crash report in the git directory: of no use once the error is reported.
      const reports = (await fs.readdir(gitDir).catch(() => [] as string[])).filter((name) => name.startsWith('fast_import_crash_'));
      await Promise.all(reports.map((name) => fs.rm(join(gitDir, name), { force: true })));
      throw error;
    }
  }

  /** Moves the index and working tree from `from` (which they hold) to `to`, touching only what differs. */
  async checkOut(from: string, to: string): Promise<void> {
    await this.git.run(['read-tree', '-m', '-u', from, to]);
  }

  /** Undoes whatever is uncommitted: the working tree and index back to HEAD. */
  async discardChanges(): Promise<void> {
    await this.cleanTree();
  }

  /** Whether git would run a pre-commit or commit-msg hook here (see `runHook`). */
  async hasCommitHooks(): Promise<boolean> {
    const { hooksDir } = await this.open();
    const installed = await Promise.all(['pre-commit', 'commit-msg'].map((hook) => hookInstalled(hooksDir, hook)));
    return installed.some(Boolean);
  }

  /**
   * Merges small packs into bigger ones, each at least twice the size of the next smaller one, so
   * a repack touches little and the number of packs stays logarithmic in the objects.
   */
  async repackGeometrically(): Promise<void> {
    // Git before 2.32 has no geometric repack: its `gc --auto` merges the packs once there are 50.
    await this.git.run(['repack', '-d', '-q', '--geometric=2']).catch(() => this.git.run(['gc', '--auto', '--quiet']));
  }

  /** Replaces `dir` in the working tree with `files` (name → content). */
  async replaceDir(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
    await this.assertInsideRepo(dir);
    await fs.rm(join(this.root, dir), { recursive: true, force: true });
    for (const [name, content] of files) await this.writeFile(`${dir}/${name}`, content);
  }

  async writeFile(path: string, content: string): Promise<void> {
    await this.assertInsideRepo(path);
    const absolute = join(this.root, path);
    try {
      await fs.mkdir(dirname(absolute), { recursive: true });
      // Remove first so a symlink (or anything else) at the path is replaced, never followed.
      await fs.rm(absolute, { recursive: true, force: true });
      await fs.writeFile(absolute, content, { flag: 'wx' });
    } catch (error) {
      if (['ENOTDIR', 'EISDIR', 'EEXIST'].includes(String((error as NodeJS.ErrnoException).code))) {
        throw configurationInvalid(`cannot write ${path}: another file is in the way (${(error as Error).message})`);
      }
      throw error;
    }
  }

  /** Makes the index match the working tree for `dir` (deletions included) and for `paths`. */
  async stage(dir: string, paths: readonly string[]): Promise<void> {
    await this.git.run(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', dir]);
    if (paths.length === 0) return;
    // --force: a .gitignore in the repository must not silently drop a manifest.
    await this.git.run(['add', '--force', '--pathspec-from-file=-', '--pathspec-file-nul'], { input: paths.join('\0') });
  }

  async hasStagedChanges(): Promise<boolean> {
    return (await this.git.run(['diff', '--cached', '--quiet'], { okExitCodes: [0, 1] })).exitCode === 1;
  }

  /** Stages the inverse of `commit`; on conflict returns the conflicting paths and leaves the tree clean. */
  async stageRevert(commit: string): Promise<{ conflicts: string[] }> {
    const attempt = await this.git.run(['revert', '--no-commit', commit], { okExitCodes: 'any' });
    if (attempt.exitCode === 0) return { conflicts: [] };
    const unmerged = await this.git.run(['diff', '--name-only', '--diff-filter=U', '-z']);
    await this.cleanTree();
    const conflicts = unmerged.stdout.split('\0').filter(Boolean);
    if (conflicts.length === 0) throw new GitCommandError(`git revert --no-commit ${commit}`, attempt.exitCode, attempt.stderr || attempt.stdout);
    return { conflicts };
  }

  /** Commits later than `commit` up to `tip` (default: the branch) that touched `paths`, newest first, abbreviated. */
  async commitsSince(commit: string, paths: readonly string[], tip = `refs/heads/${this.branch}`): Promise<string[]> {
    const { stdout } = await this.git.run(['log', '--format=%h %s', `${commit}..${tip}`, '--', ...paths]);
    return stdout.split('\n').filter(Boolean);
  }

  /**
   * Commits the index. The pre-commit and commit-msg hooks are run here, one by one, rather than by
   * `git commit`: that is the only reliable way to tell "a hook refused this change" (final, a
   * ClusterTargetRejected) from "git failed" (retryable), which a failed `git commit` conflates.
   *
   * Returns the new commit and its first parent (null for a root commit), both from one command:
   * callers need the parent to find the previous change of a location.
   */
  async commit(message: string, options: { allowEmpty?: boolean } = {}): Promise<{ commit: string; parent: string | null }> {
    const { gitDir, hooksDir } = await this.open();
    const messageFile = join(gitDir, MESSAGE_FILE);
    await fs.writeFile(messageFile, message);
    await this.runHook(hooksDir, 'pre-commit', []);
    await this.runHook(hooksDir, 'commit-msg', [messageFile]);
    await this.git.run(['commit', '-q', '--no-verify', '--cleanup=whitespace', `--file=${messageFile}`, ...(options.allowEmpty ? ['--allow-empty'] : [])]);
    const [commit = '', parent] = (await this.git.run(['rev-list', '--parents', '-n', '1', 'HEAD', '--'])).stdout.trim().split(' ');
    return { commit, parent: parent ?? null };
  }

  /**
   * Most repositories have no hooks, so a hook is spawned only when git would find one: the same
   * test as git's own (a file at the path that we may execute). `--ignore-missing` still covers a
   * hook removed between the check and the run.
   */
  private async runHook(hooksDir: string, hook: string, args: readonly string[]): Promise<void> {
    if (!(await hookInstalled(hooksDir, hook))) return;
    const result = await this.git.run(['hook', 'run', '--ignore-missing', hook, ...(args.length > 0 ? ['--', ...args] : [])], { okExitCodes: 'any' });
    if (result.exitCode === 0) return;
    const output = `${result.stdout}${result.stderr}`.trim();
    if (result.exitCode === 128 && output.startsWith('fatal:')) throw new GitCommandError(`git hook run ${hook}`, result.exitCode, output);
    throw targetRejected(`the repository's ${hook} hook rejected the commit (exit ${result.exitCode}): ${output.slice(0, 2000) || 'no output'}`);
  }

  /**
   * Finds or creates the repository and learns its layout, once: concurrent first calls share one
   * attempt, and a failed attempt is forgotten so the next call tries again.
   */
  private open(): Promise<Layout> {
    this.layout ??= this.openOnce().catch((error: unknown) => {
      this.layout = undefined;
      throw error;
    });
    return this.layout;
  }

  private async openOnce(): Promise<Layout> {
    if (!(await exists(join(this.root, '.git')))) await this.create();
    // Relative answers (common dir, hooks) are relative to the working directory, our root.
    const { stdout } = await this.git.run(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir', '--git-path', 'hooks', '--show-object-format']);
    const [topLevel = '', gitDir = '', commonDir = '', hooksDir = '', objectFormat = ''] = stdout.trim().split('\n');
    if ((await fs.realpath(topLevel)) !== (await fs.realpath(this.root))) {
      throw configurationInvalid(`${this.root} is inside the git repository ${topLevel}, not a repository of its own`);
    }
    await this.git.run(['check-ref-format', `refs/heads/${this.branch}`]).catch(() => {
      throw configurationInvalid(`branch ${JSON.stringify(this.branch)} is not a valid git branch name`);
    });
    return { gitDir, commonDir: resolve(this.root, commonDir), hooksDir: resolve(this.root, hooksDir), objectFormat };
  }

  /**
   * Builds the repository in a sibling directory and renames it into place, so another process
   * never sees a half-made repository and a crash leaves no half-made one behind at `root`.
   */
  private async create(): Promise<void> {
    const entries: string[] = await fs.readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    if (entries.includes('.git')) return; // another process renamed its repository into place just now
    if (entries.length > 0) throw configurationInvalid(`${this.root} exists, is not empty and is not a git repository; refusing to take it over`);
    const parent = dirname(this.root);
    await fs.mkdir(parent, { recursive: true });
    const staging = join(parent, `.${basename(this.root)}.init-${process.pid}-${randomUUID()}`);
    await fs.mkdir(staging);
    try {
      const git = createGit(staging, this.options.author, { onCommand: this.options.onGitCommand });
      await git.run(['init', '-q', `--initial-branch=${this.branch}`]);
      await this.initialCommit(git);
      await fs.rename(staging, this.root).catch((error: NodeJS.ErrnoException) => {
        // Another process created it first; theirs is as good as ours.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    if (!(await exists(join(this.root, '.git')))) throw configurationInvalid(`${this.root} was filled by something other than a git repository`);
  }

  private async initialCommit(git: Git): Promise<void> {
    await fs.writeFile(join(git.cwd, 'README.md'), README);
    await git.run(['add', '--force', '--', 'README.md']);
    await git.run(['commit', '-q', '--no-verify', '--allow-empty', '-F', '-'], { input: initialMessage(this.branch) });
  }

  /**
   * We are the only writer, so anything uncommitted is debris of an operation that died (SIGKILL,
   * OOM, host reboot): git's own lock files, a half-written tree, a revert stopped at a conflict.
   * Only safe while holding the file lock.
   */
  private async recover({ gitDir, commonDir }: Layout): Promise<void> {
    const leftovers = [join(gitDir, 'index.lock'), join(gitDir, 'HEAD.lock'), join(commonDir, 'packed-refs.lock'), join(commonDir, `refs/heads/${this.branch}.lock`)];
    for (const leftover of leftovers) await fs.rm(leftover, { force: true });
    const current = (await this.git.run(['symbolic-ref', '-q', 'HEAD'], { okExitCodes: [0, 1] })).stdout.trim();
    if (current !== `refs/heads/${this.branch}`) {
      const hasHead = await this.hasCommit('HEAD');
      const branchExists = await this.hasCommit(`refs/heads/${this.branch}`);
      if (branchExists) await this.git.run(['checkout', '-q', '-f', this.branch, '--']);
      else if (hasHead) await this.git.run(['checkout', '-q', '-f', '-b', this.branch]);
      else await this.git.run(['symbolic-ref', 'HEAD', `refs/heads/${this.branch}`]);
    }
    if (await this.hasCommit('HEAD')) {
      await this.cleanTree();
    } else {
      // A repository someone created by hand and never committed to: nothing to reset to.
      await this.git.run(['clean', '-q', '-f', '-d']);
      await this.initialCommit(this.git);
    }
  }

  /**
   * Working tree and index back to HEAD; untracked files go too (ignored ones stay). Inside a
   * locked section HEAD always has a commit (recovery makes one), so this needs no check first.
   */
  private async cleanTree(): Promise<void> {
    await this.git.run(['reset', '-q', '--hard', 'HEAD']);
    await this.git.run(['clean', '-q', '-f', '-d']);
  }

  /** Whether the clean marker is this process's and the repository is still as that section left it. */
  private async leftCleanByUs(layout: Layout, marker: string): Promise<boolean> {
    const [written, now] = await Promise.all([fs.readFile(marker, 'utf8').catch(() => undefined), this.cleanState(layout).catch(() => undefined)]);
    return written !== undefined && now !== undefined && written === now;
  }

  /**
   * Ends a section whose repository is clean: records our token and the fingerprint. Best effort:
   * without a marker the next holder merely recovers. A crash while writing leaves a truncated
   * marker, which can never equal the expected text in full, so it too means "recover".
   */
  private async markClean(layout: Layout, marker: string): Promise<void> {
    const state = await this.cleanState(layout).catch(() => undefined);
    if (state !== undefined) await fs.writeFile(marker, state).catch(() => undefined);
  }

  /**
   * What the marker must hold for recovery to be skipped, or undefined when the repository is in a
   * state that needs recovery whoever left it: HEAD not on our branch (a person's checkout, or a
   * hook's), a git lock file (a git that died), a revert, merge or cherry-pick in progress. The
   * rest is a fingerprint (inode, size, times) of the files a person's `git add`, `reset`,
   * `commit` or `update-ref` rewrites; git replaces them by rename, so any such change shows.
   * Only file system calls: checking must cost no git process.
   */
  private async cleanState({ gitDir, commonDir }: Layout): Promise<string | undefined> {
    const branchRef = join(commonDir, 'refs', 'heads', ...this.branch.split('/'));
    const mustBeAbsent = [
      join(gitDir, 'index.lock'),
      join(gitDir, 'HEAD.lock'),
      join(gitDir, 'REVERT_HEAD'),
      join(gitDir, 'MERGE_HEAD'),
      join(gitDir, 'CHERRY_PICK_HEAD'),
      join(gitDir, 'sequencer'),
      `${branchRef}.lock`,
      join(commonDir, 'packed-refs.lock'),
    ];
    const watched = [join(gitDir, 'index'), branchRef, join(commonDir, 'packed-refs'), join(commonDir, 'reftable', 'tables.list')];
    const [head, present, fingerprint] = await Promise.all([
      fs.readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => ''),
      Promise.all(mustBeAbsent.map(exists)),
      Promise.all(watched.map(statSignature)),
    ]);
    if (head !== `ref: refs/heads/${this.branch}\n` || present.some(Boolean)) return undefined;
    return [PROCESS_TOKEN, this.branch, ...fingerprint, ''].join('\n');
  }

  /** A symlink planted in the repository must not let a write or delete land outside it. */
  private async assertInsideRepo(path: string): Promise<void> {
    const segments = path.split('/');
    let current = this.root;
    for (const segment of segments.slice(0, -1)) {
      current = join(current, segment);
      const stat = await fs.lstat(current).catch(() => undefined);
      if (!stat) return;
      if (!stat.isDirectory()) {
        throw configurationInvalid(`cannot write ${path}: ${current.slice(this.root.length + 1)} is ${stat.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
      }
    }
  }
}

function checkBranchName(branch: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch) || branch.includes('..') || branch.endsWith('.lock') || branch.endsWith('/')) {
    throw configurationInvalid(`branch ${JSON.stringify(branch)} is not a valid git branch name`);
  }
}

function checkIdentity(author: GitIdentity): void {
  if (!author.name.trim() || !author.email.trim() || /[<>\n\r\0]/.test(author.name + author.email)) {
    throw configurationInvalid('author name and email must be non-empty and free of <, >, newlines');
  }
}

/** Git's own test for a hook: a file at the path that we may execute. */
function hookInstalled(hooksDir: string, hook: string): Promise<boolean> {
  return fs.access(join(hooksDir, hook), fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Identity and last change of a file, or '-' when it does not exist. */
async function statSignature(path: string): Promise<string> {
  const stat = await fs.stat(path, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : '-';
}

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}
