/**
 * Mutual exclusion for one repository: an in-process queue (activities of one worker run
 * concurrently) and a lock file (several workers may share a data directory).
 *
 * The lock file holds `pid`, `hostname`, process start time and a random token. It is published
 * with link(2) from a fully written temporary file, so nobody ever reads a half-written lock (which
 * an `open(..., 'wx')` followed by a write would allow), and link fails with EEXIST atomically.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

const queues = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier call with the same key has settled. */
export async function withProcessMutex<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let release = (): void => undefined;
  const current = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => current);
  queues.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

export interface FileLockOptions {
  /** How long to wait for a live holder before giving up (a retryable error). */
  timeoutMs: number;
  pollMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  startTime: string;
  token: string;
}

/** Tokens of the locks this process holds right now: a lock with our pid but another token is a leftover. */
const heldTokens = new Set<string>();

export interface AcquiredLock {
  /**
   * True when a lock left by a holder that is gone was found on the way in (whoever removed it): that
   * holder may have died half-way through its work, so the caller must not trust the state it left.
   */
  tookOverStaleLock: boolean;
}

export async function withFileLock<T>(lockPath: string, options: FileLockOptions, fn: (lock: AcquiredLock) => Promise<T>): Promise<T> {
  const { token, tookOverStaleLock } = await acquire(lockPath, options);
  try {
    return await fn({ tookOverStaleLock });
  } finally {
    await release(lockPath, token);
  }
}

async function acquire(lockPath: string, { timeoutMs, pollMs = 50 }: FileLockOptions): Promise<{ token: string; tookOverStaleLock: boolean }> {
  const token = randomUUID();
  let tookOverStaleLock = false;
  const draft = `${lockPath}.${process.pid}.${token}.tmp`;
  await fs.writeFile(draft, `${process.pid}\n${hostname()}\n${startTimeOf(process.pid) ?? ''}\n${token}\n`, { flag: 'wx' });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (await publish(draft, lockPath)) {
        heldTokens.add(token);
        return { token, tookOverStaleLock };
      }
      const holder = await readHolder(lockPath);
      if (!holder) continue; // released between our attempt and the read
      if (isStale(holder)) {
        tookOverStaleLock = true;
        await steal(lockPath, holder, draft);
        if (Date.now() < deadline) continue;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${lockPath}, held by pid ${holder.pid} on ${holder.host || 'an unknown host'}; ` +
            'remove the file if that process is gone',
        );
      }
      await sleep(pollMs + Math.floor(Math.random() * pollMs));
    }
  } finally {
    await fs.rm(draft, { force: true });
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  heldTokens.delete(token);
  const holder = await readHolder(lockPath);
  if (holder?.token === token) await fs.rm(lockPath, { force: true });
}

async function publish(draft: string, target: string): Promise<boolean> {
  try {
    await fs.link(draft, target);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a lock whose holder is gone. A second lock (`.steal`) makes the check-and-remove atomic
 * among stealers; without it, a slow stealer could remove the fresh lock another stealer just took.
 */
async function steal(lockPath: string, stale: Holder, draft: string): Promise<void> {
  const stealPath = `${lockPath}.steal`;
  if (!(await publish(draft, stealPath))) {
    // A stealer that died within these few lines must not block everyone forever.
    const stealer = await readHolder(stealPath);
    if (stealer && isStale(stealer)) await removeIfToken(stealPath, stealer.token);
    await sleep(10);
    return;
  }
  try {
    await removeIfToken(lockPath, stale.token);
  } finally {
    await fs.rm(stealPath, { force: true });
  }
}

async function removeIfToken(path: string, token: string): Promise<void> {
  const current = await readHolder(path);
  if (current?.token === token) await fs.rm(path, { force: true });
}

function isStale(holder: Holder): boolean {
  if (holder.token === '' || !Number.isInteger(holder.pid) || holder.pid <= 0) return true; // not written by us
  if (holder.host !== hostname()) return false; // cannot see that host's processes: wait for it
  if (holder.pid === process.pid) return !heldTokens.has(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return codeOf(error) === 'ESRCH';
  }
  // The pid is alive, but it may be a new process that reuses the pid (a restarted container's pid 1).
  const startTime = startTimeOf(holder.pid);
  return holder.startTime !== '' && startTime !== undefined && startTime !== holder.startTime;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  const [pid = '', host = '', startTime = '', token = ''] = text.split('\n');
  return { pid: Number(pid), host, startTime, token };
}

/** Process start time in clock ticks since boot (Linux /proc), to tell a reused pid from its first owner. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses; the fields after the last ')' start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
