/**
 * Platform workers as child processes (`workers/main.ts`), for tests that SIGKILL them mid-run.
 * Their output is collected with a label per worker, for failure messages.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnManaged } from '../../scripts/lib/processes';
import { projectRoot } from '../../scripts/lib/tools';

export interface WorkerProcesses {
  /** Starts a worker with the platform's environment (read when it starts). */
  start(label: string): ChildProcess;
  /** SIGKILLs a worker and waits until it has exited; a no-op for one that already has. */
  kill(child: ChildProcess): Promise<void>;
  /** Kills every worker still running (for `after`). */
  killAll(): Promise<void>;
  /** The last `lines` lines the workers printed. */
  tail(lines: number): string;
  /** Polls `probe` until it gives a value; on timeout, fails naming `what`, with the workers' last lines. */
  until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs?: number, everyMs?: number): Promise<T>;
}

export function workerProcesses(env: () => Record<string, string>): WorkerProcesses {
  const output: string[] = [];
  const children: ChildProcess[] = [];
  const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;
  const kill = async (child: ChildProcess): Promise<void> => {
    if (exited(child)) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  return {
    start(label) {
      const child = spawnManaged(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
        cwd: projectRoot,
        env: { ...process.env, ...env(), LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (chunk: Buffer): void => {
        output.push(...chunk.toString().split('\n').filter(Boolean).map((line) => `${label}: ${line}`));
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      children.push(child);
      return child;
    },
    kill,
    async killAll() {
      for (const child of children) await kill(child);
    },
    tail: (lines) => output.slice(-lines).join('\n'),
    async until(what, probe, timeoutMs = 90_000, everyMs = 20) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const value = await probe();
        if (value !== undefined) return value;
        await new Promise((r) => setTimeout(r, everyMs));
      }
      throw new Error(`timed out waiting for ${what}\n${output.slice(-40).join('\n')}`);
    },
  };
}
