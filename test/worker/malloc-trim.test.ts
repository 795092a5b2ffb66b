/**
 * The worker's periodic malloc_trim (workers/malloc-trim.ts, native/malloc-trim): the schedule and
 * its off switches with a fake binding, and the real addon on this machine (glibc): it loads, and
 * a trim gives freed heap holes back to the kernel, seen in the RSS of a child process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { loadMallocTrimBinding, startMallocTrim, type MallocTrimBinding } from '../../workers/malloc-trim';
import { until } from '../helpers/until';

const fakeBinding = (trim: () => boolean | undefined = () => true, supported = true): MallocTrimBinding & { calls: number } => {
  const binding = {
    calls: 0,
    supported,
    trim: () => {
      binding.calls += 1;
      return trim();
    },
  };
  return binding;
};

describe('the malloc_trim schedule', () => {
  it('when the interval is 0, or there is no binding, or the C library is not glibc, then it never trims', async () => {
    const binding = fakeBinding();
    const cases = [
      startMallocTrim({ intervalMs: 0, binding, log: () => undefined }),
      startMallocTrim({ intervalMs: 5, binding: undefined, log: () => undefined }),
      startMallocTrim({ intervalMs: 5, binding: fakeBinding(() => undefined, false), log: () => undefined }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const trimmer of cases) {
      assert.equal(trimmer.active, false);
      assert.equal(trimmer.stats.trims, 0);
      trimmer.stop();
    }
    assert.equal(binding.calls, 0);
  });

  it('when active, then it trims every interval, counts what it released, and stops on stop()', async () => {
    let released = false;
    const binding = fakeBinding(() => (released = !released)); // released every other call
    const trimmer = startMallocTrim({ intervalMs: 5, binding, log: () => undefined });
    assert.equal(trimmer.active, true);
    await until('four trims', () => trimmer.stats.trims >= 4, { timeoutMs: 10_000, everyMs: 5 });
    trimmer.stop();
    const after = binding.calls;
    assert.equal(trimmer.stats.trims, after);
    assert.ok(trimmer.stats.released >= 2 && trimmer.stats.released <= after - 1, `released ${trimmer.stats.released} of ${after}`);
    assert.ok(trimmer.stats.totalMs >= 0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(binding.calls, after, 'no trim after stop()');
  });

  it('when a trim throws, then it is logged and the schedule goes on', async () => {
    const logged: string[] = [];
    const binding = fakeBinding(() => {
      throw new Error('boom');
    });
    const trimmer = startMallocTrim({ intervalMs: 5, binding, log: (message, fields) => logged.push(`${message} ${String(fields?.error)}`) });
    await until('two failed trims', () => trimmer.stats.trims >= 2, { timeoutMs: 10_000, everyMs: 5 });
    trimmer.stop();
    assert.ok(logged.length >= 2);
    assert.equal(logged[0], 'malloc_trim failed boom');
  });
});

describe('the native addon on this machine', () => {
  it('when loaded on glibc Linux, then it is supported and a trim answers whether memory went back', () => {
    const loaded = loadMallocTrimBinding();
    assert.ok('binding' in loaded, 'unavailable' in loaded ? loaded.unavailable : '');
    assert.equal(loaded.binding.supported, true);
    assert.equal(typeof loaded.binding.trim(), 'boolean');
  });

  it('when 90 % of 200 MiB of heap allocations are freed around the rest, then a trim lowers the RSS by most of it', () => {
    // A child process, so that this file's own heap does not blur the numbers. 64 KiB buffers are
    // below glibc's mmap threshold: they come from the heap, and every tenth one kept pins the
    // holes between them, which free() cannot give back and malloc_trim can.
    const script = `
      const { trim } = require('@deploy-platform/malloc-trim');
      const rss = () => process.memoryUsage().rss;
      const all = [];
      for (let i = 0; i < 3200; i++) all.push(Buffer.alloc(64 * 1024, 1));
      const kept = all.filter((_, i) => i % 10 === 0);
      all.length = 0;
      for (let i = 0; i < 3; i++) gc();
      const before = rss();
      trim();
      const after = rss();
      console.log(JSON.stringify({ before, after, kept: kept.length }));
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const { before, after } = JSON.parse(child.stdout) as { before: number; after: number };
    const droppedMiB = (before - after) / 1024 / 1024;
    assert.ok(droppedMiB >= 100, `RSS ${Math.round(before / 1048576)} → ${Math.round(after / 1048576)} MiB: only ${droppedMiB.toFixed(0)} MiB went back`);
  });
});
