/**
 * How the worker process is started: environment that lowers its memory without costing CPU
 * (issue 12, docs/performance.md, "Worker memory"). An idle Temporal worker under tsx on the bench
 * machine has an RSS of about 290 MiB, most of it the SDK's own; on the burst of 100 these settings took
 * the worker from 360 to 270 MiB at no measured CPU cost (249 ms per run against 261 ms).
 * - `MALLOC_ARENA_MAX=2`: glibc keeps two malloc arenas instead of up to eight per core for the
 *   SDK core's threads, whose freed memory otherwise stays spread over arenas.
 * - `--max-semi-space-size=4`: a 4 MB young generation per V8 isolate (the main thread and the
 *   workflow thread) instead of up to 16 MB.
 * `scripts/start.ts` and the bench start the worker with it; `docker-compose.yml` sets the same
 * (a test checks). A value the operator already set wins; NODE_OPTIONS is extended, not replaced.
 */
export const WORKER_MALLOC_ARENA_MAX = '2';
export const WORKER_NODE_OPTIONS = '--max-semi-space-size=4';

export function workerProcessEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const nodeOptions = env.NODE_OPTIONS?.includes('--max-semi-space-size') ? env.NODE_OPTIONS : [env.NODE_OPTIONS, WORKER_NODE_OPTIONS].filter(Boolean).join(' ');
  return { MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? WORKER_MALLOC_ARENA_MAX, NODE_OPTIONS: nodeOptions };
}
