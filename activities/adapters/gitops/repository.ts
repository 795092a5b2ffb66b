/**
 * One GitOps repository on disk: creating it, locking it, bringing it back to a clean state after
 * a crash, and the few git questions and commands the cluster target needs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
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
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

const LOCK_FILE = 'deploy-platform.lock';
const MESSAGE_FILE = 'PLATFORM_COMMIT_MSG';

export class GitOpsRepository {
  readonly root: string;
  readonly branch: string;
  private readonly git: Git;
  private gitDir: string | undefined;
  private objectFormat: string | undefined;

  constructor(private readonly options: RepositoryOptions) {
    this.root = resolve(options.repoDir);
    this.branch = options.branch;
    checkBranchName(options.branch);
    checkIdentity(options.author);
    this.git = createGit(this.root, options.author);
  }

  /**
   * Runs `fn` as the repository's only writer, on a clean working tree at the branch head. Both
   * locks are needed: the file lock alone would let two activities of this process interleave,
   * because they share a pid.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return withProcessMutex(this.root, async () => {
      const gitDir = await this.open();
      return withFileLock(join(gitDir, LOCK_FILE), { timeoutMs: this.options.lockTimeoutMs }, async () => {
        await this.recover(gitDir);
        try {
          return await fn();
        } catch (error) {
          // Leave no half-applied change behind for people looking at the repository; the next
          // operation would reset it anyway, so a failure here must not hide the original error.
          await this.cleanTree().catch(() => undefined);
          throw error;
        }
      });
    });
  }

  async head(): Promise<string> {
    return (await this.git.run(['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
  }

  async hasCommit(revision: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['cat-file', '-e', `${revision}^{commit}`], { okExitCodes: 'any' });
    return exitCode === 0;
  }

  async isOnBranch(revision: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['merge-base', '--is-ancestor', revision, `refs/heads/${this.branch}`], { okExitCodes: [0, 1] });
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
    this.objectFormat ??= (await this.git.run(['rev-parse', '--show-object-format'])).stdout.trim();
    const bytes = Buffer.from(content, 'utf8');
    return createHash(this.objectFormat === 'sha256' ? 'sha256' : 'sha1')
      .update(`blob ${bytes.length}\0`)
      .update(bytes)
      .digest('hex');
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

  /** Commits later than `commit` on the branch that touched `paths`, newest first, abbreviated. */
  async commitsSince(commit: string, paths: readonly string[]): Promise<string[]> {
    const { stdout } = await this.git.run(['log', '--format=%h %s', `${commit}..refs/heads/${this.branch}`, '--', ...paths]);
    return stdout.split('\n').filter(Boolean);
  }

  /**
   * Commits the index. The pre-commit and commit-msg hooks are run here, one by one, rather than by
   * `git commit`: that is the only reliable way to tell "a hook refused this change" (final, a
   * ClusterTargetRejected) from "git failed" (retryable), which a failed `git commit` conflates.
   */
  async commit(message: string, options: { allowEmpty?: boolean } = {}): Promise<string> {
    const gitDir = await this.open();
    const messageFile = join(gitDir, MESSAGE_FILE);
    await fs.writeFile(messageFile, message);
    await this.runHook('pre-commit', []);
    await this.runHook('commit-msg', [messageFile]);
    await this.git.run(['commit', '-q', '--no-verify', '--cleanup=whitespace', `--file=${messageFile}`, ...(options.allowEmpty ? ['--allow-empty'] : [])]);
    return this.head();
  }

  private async runHook(hook: string, args: readonly string[]): Promise<void> {
    const result = await this.git.run(['hook', 'run', '--ignore-missing', hook, ...(args.length > 0 ? ['--', ...args] : [])], { okExitCodes: 'any' });
    if (result.exitCode === 0) return;
    const output = `${result.stdout}${result.stderr}`.trim();
    if (result.exitCode === 128 && output.startsWith('fatal:')) throw new GitCommandError(`git hook run ${hook}`, result.exitCode, output);
    throw targetRejected(`the repository's ${hook} hook rejected the commit (exit ${result.exitCode}): ${output.slice(0, 2000) || 'no output'}`);
  }

  /** Finds or creates the repository and returns its git directory. */
  private async open(): Promise<string> {
    if (this.gitDir) return this.gitDir;
    if (!(await exists(join(this.root, '.git')))) await this.create();
    const { stdout } = await this.git.run(['rev-parse', '--show-toplevel', '--absolute-git-dir']);
    const [topLevel = '', gitDir = ''] = stdout.trim().split('\n');
    if ((await fs.realpath(topLevel)) !== (await fs.realpath(this.root))) {
      throw configurationInvalid(`${this.root} is inside the git repository ${topLevel}, not a repository of its own`);
    }
    await this.git.run(['check-ref-format', `refs/heads/${this.branch}`]).catch(() => {
      throw configurationInvalid(`branch ${JSON.stringify(this.branch)} is not a valid git branch name`);
    });
    this.gitDir = gitDir;
    return gitDir;
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
      const git = createGit(staging, this.options.author);
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
  private async recover(gitDir: string): Promise<void> {
    for (const leftover of ['index.lock', 'HEAD.lock', 'packed-refs.lock', `refs/heads/${this.branch}.lock`]) {
      await fs.rm(join(gitDir, leftover), { force: true });
    }
    const current = (await this.git.run(['symbolic-ref', '-q', 'HEAD'], { okExitCodes: [0, 1] })).stdout.trim();
    const hasHead = await this.hasCommit('HEAD');
    if (current !== `refs/heads/${this.branch}`) {
      const branchExists = await this.hasCommit(`refs/heads/${this.branch}`);
      if (branchExists) await this.git.run(['checkout', '-q', '-f', this.branch, '--']);
      else if (hasHead) await this.git.run(['checkout', '-q', '-f', '-b', this.branch]);
      else await this.git.run(['symbolic-ref', 'HEAD', `refs/heads/${this.branch}`]);
    }
    await this.cleanTree();
    // A repository someone created by hand and never committed to.
    if (!(await this.hasCommit('HEAD'))) await this.initialCommit(this.git);
  }

  /** Working tree and index back to HEAD; untracked files go too (ignored ones stay). */
  private async cleanTree(): Promise<void> {
    if (await this.hasCommit('HEAD')) await this.git.run(['reset', '-q', '--hard', 'HEAD']);
    await this.git.run(['clean', '-q', '-f', '-d']);
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

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}
