/**
 * Entry point for a benchmarked child process: `node dist/bench/lib/memory-reporter.js <entry.js>`
 * (or `node --import tsx bench/lib/memory-reporter.ts <entry.ts>`, bench/lib/runtime.ts) writes the process's memory (current and peak RSS and V8 heap of the main thread) as
 * JSON to BENCH_MEMORY_FILE every 500 ms, then runs the entry as if it had been started itself.
 * (Not an `--import`: worker threads inherit those, and the Temporal worker's workflow thread
 * would report too.)
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  let peakRss = 0;
  let peakHeap = 0;
  const report = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    try {
      writeFileSync(file, JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, peakRss, peakHeap }));
    } catch {
      // the bench removed its temp directory: nothing to report to any more
    }
  };
  report();
  setInterval(report, 500).unref();
}

const entry = process.argv[2];
if (!entry) throw new Error('usage: memory-reporter.ts <entry.ts>');
process.argv.splice(1, 1); // the entry sees itself as argv[1], as when started on its own
import(pathToFileURL(resolve(entry)).href).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
