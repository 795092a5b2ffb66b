/**
 * Runs the `git` CLI for one repository without a shell and without anything from the user's
 * environment leaking in: the worker must behave the same on a laptop and in a container.
 */
import { devNull } from 'node:os';
import { dirname } from 'node:path';
import { spawnViaHelper, type SpawnReply } from './spawner';

export interface GitIdentity {
  name: string;
  email: string;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitRunOptions {
  /** Written to git's stdin. */
  input?: string;
  /**
   * Exit codes that are answers rather than failures (e.g. 1 from `merge-base --is-ancestor`);
   * 'any' hands every exit code to the caller (a hook's verdict). Spawn failures still throw.
   */
  okExitCodes?: readonly number[] | 'any';
}

/**
 * A git command that failed for a reason retrying may fix (a lock held by someone else, a full
 * disk, a killed process). Deliberately a plain Error: Temporal retries it. Our arguments never
 * carry secrets (messages go through stdin or a file), so the command is safe to report.
 */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';

  constructor(
    readonly command: string,
    readonly exitCode: number | string,
    readonly stderr: string,
  ) {
    super(`${command} failed (${typeof exitCode === 'number' ? `exit ${exitCode}` : exitCode}): ${truncate(stderr.trim(), 2000) || 'no output'}`);
  }
}

export interface Git {
  readonly cwd: string;
  run(args: readonly string[], options?: GitRunOptions): Promise<GitResult>;
}

export interface GitOptions {
  /**
   * Called with the arguments of every git subprocess just before it is spawned: each one costs a
   * fork and exec, most of them under the repository lock, so tests and profiling count them.
   */
  onCommand?: (args: readonly string[]) => void;
}

const COMMAND_TIMEOUT_MS = 120_000;

export function createGit(cwd: string, identity: GitIdentity, { onCommand }: GitOptions = {}): Git {
  const config = [
    `user.name=${identity.name}`,
    `user.email=${identity.email}`,
    'commit.gpgsign=false',
    // Byte-for-byte storage: verify compares blobs with the manifests' yaml.
    'core.autocrlf=false',
    'core.quotepath=false',
    // An automatic gc must finish under our lock, not in a detached process that outlives it.
    'gc.autoDetach=false',
    // Group commit's imports keep their objects in a pack, never as loose files (see group-commit.ts).
    'fastimport.unpackLimit=1',
    'advice.detachedHead=false',
  ].flatMap((entry) => ['-c', entry]);
  const env = isolatedEnv(cwd);

  return {
    cwd,
    run(args, options = {}) {
      const okExitCodes = options.okExitCodes ?? [0];
      const command = `git ${args.join(' ')}`;
      onCommand?.(args);
      const execOptions = { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' as const, windowsHide: true };
      return spawnViaHelper({ file: 'git', args: [...config, ...args], options: execOptions, ...(options.input !== undefined ? { input: options.input } : {}) }).then(
        ({ error, stdout, stderr }) => {
          const exitCode = exitCodeOf(error);
          if (typeof exitCode === 'number' && (okExitCodes === 'any' || okExitCodes.includes(exitCode))) return { stdout, stderr, exitCode };
          throw new GitCommandError(command, exitCode, stderr || stdout);
        },
        (error: unknown) => {
          // The helper died mid-command: like a killed git, retryable.
          throw new GitCommandError(command, 'no answer', error instanceof Error ? error.message : String(error));
        },
      );
    },
  };
}

function exitCodeOf(error: SpawnReply['error']): number | string {
  if (!error) return 0;
  if (typeof error.code === 'number') return error.code;
  if (error.killed || typeof error.signal === 'string') return `killed by ${String(error.signal ?? 'signal')} after ${COMMAND_TIMEOUT_MS} ms at most`;
  return typeof error.code === 'string' ? error.code : error.message;
}

/**
 * The parent's environment minus every GIT_* variable (GIT_DIR, GIT_AUTHOR_NAME ... would silently
 * redirect or re-sign our commits), plus settings that make git non-interactive and blind to the
 * user's global and system configuration.
 */
function isolatedEnv(cwd: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: devNull,
    // Never walk up into an enclosing repository (e.g. the project's own) when ours is missing.
    GIT_CEILING_DIRECTORIES: dirname(cwd),
    // Paths we pass are file names, never glob patterns.
    GIT_LITERAL_PATHSPECS: '1',
    GIT_EDITOR: ':',
    LC_ALL: 'C',
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
