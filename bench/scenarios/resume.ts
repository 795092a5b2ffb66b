/**
 * (d) Resume after a crash: M dev deploys in flight, the worker process SIGKILLed, a new one
 * started. Measured: the new worker's start until it polls (it bundles its workflows), and from
 * its first poll until each run that was in flight has succeeded. Tasks the dead worker held come
 * back only when Temporal notices: a sticky workflow task after its schedule-to-start timeout,
 * an activity after its heartbeat or start-to-close timeout, so this is mostly the platform's
 * timeouts. The floor: the same with floor runs and the floor's worker (10 s start-to-close
 * timeout, no heartbeats).
 */
import { performance } from 'node:perf_hooks';
import type { BenchWorker } from '../lib/children';
import type { Bench } from '../lib/context';
import { distribution, mib, sleep, type Row } from '../lib/stats';

interface Tracked {
  done: Promise<number | undefined>;
  doneAt?: number;
}

function track(promise: Promise<unknown>): Tracked {
  const t: Tracked = {
    done: promise.then(
      () => (t.doneAt = Date.now()),
      () => undefined,
    ),
  };
  return t;
}

async function crashAndResume(options: {
  m: number;
  killAfterMs: number;
  start: () => Promise<{ done: Promise<unknown> }>;
  worker: () => BenchWorker | undefined;
  restart: () => Promise<{ worker: BenchWorker; startedToPollMs: number }>;
}): Promise<{ inFlight: number; afterPoll: number[]; failed: number; startedToPollMs: number; allMs: number; rss?: number }> {
  const started = await Promise.all(Array.from({ length: options.m }, () => options.start()));
  const runs = started.map((s) => track(s.done));
  await sleep(options.killAfterMs);
  await options.worker()?.kill();
  const killedAt = Date.now();
  const open = runs.filter((r) => r.doneAt === undefined || r.doneAt > killedAt);
  const { worker, startedToPollMs } = await options.restart();
  const polledAt = worker.spawnedAt + startedToPollMs;
  const ends = await Promise.all(open.map((r) => r.done));
  const afterPoll = ends.filter((e): e is number => e !== undefined).map((e) => Math.max(0, e - polledAt));
  return {
    inFlight: open.length,
    afterPoll,
    failed: ends.filter((e) => e === undefined).length,
    startedToPollMs,
    allMs: afterPoll.length ? Math.max(...afterPoll) : NaN,
    rss: worker.memory()?.peakRss,
  };
}

export async function resumeScenario(bench: Bench): Promise<Row[]> {
  const m = bench.sizes.resume;
  if (m <= 0) return [];
  const dev = await bench.devShape();
  // Kill halfway through a single run's time: with M runs at once, each is in flight then.
  let t0 = performance.now();
  await bench.platformResult(await bench.postDeployment(bench.devBody()));
  const platformSingle = performance.now() - t0;
  t0 = performance.now();
  await bench.floorResult(await bench.startFloor({ activities: dev.activities }));
  const floorSingle = performance.now() - t0;

  const platform = await crashAndResume({
    m,
    killAfterMs: platformSingle / 2,
    start: async () => {
      const run = await bench.postDeployment(bench.devBody(bench.unique('resume')));
      return { done: bench.platformResult(run) };
    },
    worker: () => bench.platformWorker,
    restart: () => bench.startPlatformWorker('platform-worker-2'),
  });
  const floor = await crashAndResume({
    m,
    killAfterMs: floorSingle / 2,
    start: async () => {
      const handle = await bench.startFloor({ activities: dev.activities });
      return { done: bench.floorResult(handle) };
    },
    worker: () => bench.floorWorker,
    restart: () => bench.startFloorWorker('floor-worker-2'),
  });
  return [
    {
      scenario: 'resume',
      measures: `SIGKILL with ${m} started; new worker's first poll → each in-flight run done`,
      platform: distribution(platform.afterPoll),
      floor: distribution(floor.afterPoll),
      platformRssMiB: mib(platform.rss),
      floorRssMiB: mib(floor.rss),
      extra: {
        platformInFlight: platform.inFlight,
        floorInFlight: floor.inFlight,
        platformAllProgressedMs: Math.round(platform.allMs),
        floorAllProgressedMs: Math.round(floor.allMs),
        platformWorkerStartToPollMs: Math.round(platform.startedToPollMs),
        floorWorkerStartToPollMs: Math.round(floor.startedToPollMs),
        platformFailed: platform.failed,
      },
      note: `in flight at the kill: platform ${platform.inFlight}, floor ${floor.inFlight}; new worker spawn → first poll: platform ${(platform.startedToPollMs / 1000).toFixed(1)} s, floor ${(floor.startedToPollMs / 1000).toFixed(1)} s (not in the percentiles)${platform.failed ? `; ${platform.failed} platform runs did not succeed` : ''}`,
    },
  ];
}
