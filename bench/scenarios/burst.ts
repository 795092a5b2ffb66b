/**
 * (c) Burst drain: N dev deploys of N distinct services requested at once; the time from the
 * first request until the last run has succeeded (drain), and each run's own POST → succeeded.
 * The floor: N floor runs started at once.
 */
import { performance } from 'node:perf_hooks';
import type { Bench } from '../lib/context';
import { distribution, mapLimit, mib, type Row } from '../lib/stats';

export async function burstScenario(bench: Bench): Promise<Row[]> {
  const n = bench.sizes.burst;
  if (n <= 0) return [];
  const dev = await bench.devShape();
  const bodies = Array.from({ length: n }, () => bench.devBody(bench.unique('burst')));

  const t0 = performance.now();
  const platformEach: number[] = [];
  let platformFailed = 0;
  // All at once, as many CI pipelines would; the API answers as fast as it can start them.
  await mapLimit(bodies, n, async (body) => {
    const s = performance.now();
    try {
      await bench.platformResult(await bench.postDeployment(body));
      platformEach.push(performance.now() - s);
    } catch {
      platformFailed++;
    }
  });
  const platformDrain = performance.now() - t0;

  const f0 = performance.now();
  const floorEach: number[] = [];
  await mapLimit(Array.from({ length: n }), n, async () => {
    const s = performance.now();
    await bench.floorResult(await bench.startFloor({ activities: dev.activities }));
    floorEach.push(performance.now() - s);
  });
  const floorDrain = performance.now() - f0;

  return [
    {
      scenario: 'burst',
      measures: `${n} started at once, each start → succeeded`,
      platform: distribution(platformEach),
      floor: distribution(floorEach),
      platformRate: (n - platformFailed) / (platformDrain / 1000),
      floorRate: n / (floorDrain / 1000),
      platformRssMiB: mib(bench.platformWorker?.memory()?.peakRss),
      floorRssMiB: mib(bench.floorWorker?.memory()?.peakRss),
      extra: { platformDrainMs: Math.round(platformDrain), floorDrainMs: Math.round(floorDrain), platformFailed },
      note: `drain (first request → last succeeded): platform ${(platformDrain / 1000).toFixed(1)} s${platformFailed ? ` (${platformFailed} did not succeed)` : ''}, floor ${(floorDrain / 1000).toFixed(1)} s; rate = runs completed per second of drain`,
    },
  ];
}
