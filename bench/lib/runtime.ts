/**
 * How the bench runs its child processes (the platform's worker and API, the floor's worker).
 *
 * - `compiled` (the default): compiled to JavaScript first (`bench/tsconfig.children.json`, the
 *   image's `tsconfig.build.json` plus the floor and the memory reporter, into `dist/`) and run
 *   by plain `node`, as the container image runs them (`node dist/workers/main.js`).
 * - `tsx` (`BENCH_RUNTIME=tsx`): from the TypeScript sources under tsx, as `npm start` runs them.
 *   tsx's loader and the source maps it keeps cost an idle platform worker about 60 MiB of RSS
 *   on the bench machine (about 200 against 140 MiB), so memory numbers measured this way are
 *   `npm start`'s, not production's. Bench results up to 2c183f9 were measured this way.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../scripts/lib/tools';

export type BenchRuntime = 'compiled' | 'tsx';

export function runtimeFrom(env: NodeJS.ProcessEnv): BenchRuntime {
  const value = env.BENCH_RUNTIME ?? 'compiled';
  if (value !== 'compiled' && value !== 'tsx') throw new Error(`BENCH_RUNTIME must be "compiled" or "tsx", not "${value}"`);
  return value;
}

/** Compiles what the bench's children run into `dist/`; how long it took (ms). */
export async function compileChildren(): Promise<number> {
  const began = Date.now();
  const tsc = join(projectRoot, 'node_modules/typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(projectRoot, 'bench/tsconfig.children.json')], { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`compiling the bench's child processes failed (BENCH_RUNTIME=tsx runs them from source):\n${output.slice(0, 4000)}`, { cause: error });
  }
  return Date.now() - began;
}

/**
 * The node arguments that start `entry` (a project-relative `.ts` path) with the memory reporter
 * (`bench/lib/memory-reporter.ts`) in front of it.
 */
export function childArgs(runtime: BenchRuntime, entry: string): string[] {
  if (!entry.endsWith('.ts') || entry.startsWith('/')) throw new Error(`a child's entry is a project-relative .ts path, not "${entry}"`);
  if (runtime === 'tsx') return ['--import', 'tsx', join(projectRoot, 'bench/lib/memory-reporter.ts'), join(projectRoot, entry)];
  const compiled = (path: string): string => join(projectRoot, 'dist', path.replace(/\.ts$/, '.js'));
  return [compiled('bench/lib/memory-reporter.ts'), compiled(entry)];
}
