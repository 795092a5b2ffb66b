/**
 * Worker child processes for the bench (as test/helpers/worker-processes.ts runs them): the
 * platform's worker (`workers/main.ts`) and the floor's (`bench/floor/worker.ts`), each with the
 * memory reporter loaded so the bench reads its RSS and heap from outside, compiled or under tsx
 * (`bench/lib/runtime.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Connection } from '@temporalio/client';
import { spawnManaged } from '../../scripts/lib/processes';
import { projectRoot } from '../../scripts/lib/tools';
import { polledSince, workflowPollers } from '../../scripts/lib/worker-polling';
import { childArgs, type BenchRuntime } from './runtime';
import { sleep } from './stats';

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  peakRss: number;
  peakHeap: number;
}

export interface BenchWorker {
  label: string;
  child: ChildProcess;
  /** Date.now() when it was spawned. */
  spawnedAt: number;
  memory(): MemoryReport | undefined;
  /** SIGKILL, resolved once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** The last lines it printed, for error messages. */
  tail(): string;
  /** The first line it printed that matches, however long ago. */
  find(pattern: RegExp): string | undefined;
}

let counter = 0;

export function spawnWorker(options: {
  label: string;
  /** Project-relative TypeScript entry, e.g. `workers/main.ts`. */
  entry: string;
  runtime: BenchRuntime;
  env: Record<string, string>;
  tempDir: string;
  cpuProfileDir?: string;
}): BenchWorker {
  const memoryFile = join(options.tempDir, `memory-${options.label}-${++counter}.json`);
  const output: string[] = [];
  const watched: string[] = [];
  // BENCH_CPU_PROFILE=<dir>: the worker writes a V8 CPU profile there when it exits (see bench/profile-summary.ts).
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = spawnManaged(process.execPath, [...profile, ...childArgs(options.runtime, options.entry)], {
    cwd: projectRoot,
    env: { ...process.env, ...options.env, BENCH_MEMORY_FILE: memoryFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer): void => {
    const lines = chunk.toString().split('\n').filter(Boolean);
    output.push(...lines);
    // What a scenario reports on later (a takeover), kept beyond the rolling tail.
    watched.push(...lines.filter((line) => / took over | could not take over /.test(line)));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const signal = async (name: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (exited()) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(name);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  };
  return {
    label: options.label,
    child,
    spawnedAt: Date.now(),
    memory() {
      if (!existsSync(memoryFile)) return undefined;
      try {
        return JSON.parse(readFileSync(memoryFile, 'utf8')) as MemoryReport;
      } catch {
        return undefined; // caught mid-write
      }
    },
    kill: () => signal('SIGKILL', 0),
    stop: () => signal('SIGTERM', 15_000),
    tail: () => output.slice(-30).join('\n'),
    find: (pattern) => [...watched, ...output].find((line) => pattern.test(line)),
  };
}

/**
 * Resolves with Date.now() when Temporal first lists a poller on `taskQueue`: the given worker
 * process, or any that polled since `since` (DescribeTaskQueue; one-second resolution). Checked
 * every 100 ms, so the time is up to 100 ms late.
 */
export async function firstPoll(connection: Connection, options: { namespace: string; taskQueue: string; since: number; timeoutMs: number; worker?: BenchWorker }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const pollers = await workflowPollers(connection, options.namespace, options.taskQueue);
    // A worker's default identity is `<pid>@<host>`: that names this very process, not an earlier one.
    const pid = options.worker?.child.pid;
    const fresh = pollers.some((p) => (pid !== undefined ? (p.identity ?? '').startsWith(`${pid}@`) : polledSince(p, options.since)));
    if (fresh) return Date.now();
    if (options.worker && (options.worker.child.exitCode !== null || options.worker.child.signalCode !== null)) {
      throw new Error(`${options.worker.label} exited before it polled:\n${options.worker.tail()}`);
    }
    if (Date.now() > deadline) throw new Error(`no worker polled ${options.taskQueue} within ${options.timeoutMs} ms${options.worker ? `:\n${options.worker.tail()}` : ''}`);
    await sleep(100);
  }
}
