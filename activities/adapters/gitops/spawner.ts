/**
 * Runs commands from a small helper process instead of the worker itself.
 *
 * Node forks a child from the calling process, and a fork blocks the event loop for as long as
 * the kernel takes to copy the caller's page tables: measured with `--cpu-prof` on a platform
 * process running dev deploys, `ChildProcess.spawn` was 3.2 s of 22.9 s (about 11 ms per git
 * command), on the worker's only JavaScript thread, while git itself needs 2.5–4 ms. A helper
 * process of a few tens of MB forks in about a millisecond and the worker only exchanges messages
 * with it. One helper per process, started on first use and again if it dies; it exits with its
 * parent. It does not keep an idle process alive.
 */
import { fork, type ChildProcess, type ExecFileOptions } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface SpawnRequest {
  id: number;
  file: string;
  args: string[];
  options: Omit<ExecFileOptions, 'encoding'>;
  input?: string;
}

export interface SpawnReply {
  id: number;
  /** execFile's error, as far as it crosses a process boundary; null when the command exited 0. */
  error: { code?: number | string | null; killed?: boolean; signal?: string; message: string } | null;
  stdout: string;
  stderr: string;
}

/** The helper died or could not be reached; the command may or may not have run (like a killed git). */
export class SpawnerUnavailableError extends Error {
  override readonly name = 'SpawnerUnavailableError';
}

/** The helper: .ts under tsx (tests, npm start), .js in the compiled image. */
const HELPER = __filename.replace(/spawner(\.[cm]?[jt]s)$/, 'spawner-process$1');

let helper: ChildProcess | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (reply: SpawnReply) => void; reject: (error: Error) => void }>();

function start(): ChildProcess {
  // Not the parent's execArgv: a test runner's or an inspector's flags must not reach the helper.
  const execArgv = HELPER.endsWith('.ts') ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  const child = fork(HELPER, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
  child.on('message', (reply: SpawnReply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if (pending.size === 0) idle(child);
    call.resolve(reply);
  });
  const fail = (why: string) => {
    if (helper === child) helper = undefined;
    for (const [id, call] of pending) {
      pending.delete(id);
      call.reject(new SpawnerUnavailableError(`the command helper process ${why}`));
    }
  };
  child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
  child.on('error', (error) => fail(`failed: ${error.message}`));
  idle(child);
  return child;
}

/** Lets the process exit while nothing is in flight (a test, a CLI); busy again at the next call. */
function idle(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
}

function busy(child: ChildProcess): void {
  child.ref();
  child.channel?.ref();
}

/** execFile, run by the helper process. */
export function spawnViaHelper(request: Omit<SpawnRequest, 'id'>): Promise<SpawnReply> {
  helper ??= start();
  const child = helper;
  const id = nextId++;
  return new Promise<SpawnReply>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    busy(child);
    child.send({ ...request, id } satisfies SpawnRequest, (error) => {
      if (!error) return;
      pending.delete(id);
      if (pending.size === 0) idle(child);
      reject(new SpawnerUnavailableError(`the command helper process could not be reached: ${error.message}`));
    });
  });
}

/** The helper's pid while it runs (diagnostics, and tests that kill it). */
export function helperPid(): number | undefined {
  return helper?.pid;
}
