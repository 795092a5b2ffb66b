/** Starts apply-child.ts: another worker process applying one request to the repository at `repoDir`. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ApplyResult } from '../../activities/ports/cluster-target';

export function runApplyChild(repoDir: string, args: string[]): { child: ChildProcess; done: Promise<ApplyResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'apply-child.ts'), repoDir, ...args], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ApplyResult>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ApplyResult) : reject(new Error(`child exited ${code}: ${stderr}`)))),
  );
  return { child, done };
}
