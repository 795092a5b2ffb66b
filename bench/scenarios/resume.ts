/**
 * (d) Resume after a crash: M dev deploys in flight, the worker process SIGKILLed, a new one
 * started. Measured from the new worker's first poll: until each run that was in flight moves
 * again (its first workflow task or activity completed after the kill, read from its history:
 * the issue's "time until all progress again"), and until each has succeeded. Without help, tasks
 * the dead worker held come back only when Temporal notices: a sticky workflow task after its
 * schedule-to-start timeout, an activity after its heartbeat or start-to-close timeout. The
 * platform's worker takes over from a dead predecessor on its host (ADR 17). The floor: the same
 * with floor runs and the floor's worker (10 s start-to-close timeout, no heartbeats).
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { BenchWorker } from '../lib/children';
import type { Bench } from '../lib/context';
import { distribution, mib, sleep, type Row } from '../lib/stats';

interface Tracked {
  workflowId: string;
  runId?: string;
  done: Promise<number | undefined>;
  doneAt?: number;
}

function track(run: { workflowId: string; runId?: string; done: Promise<unknown> }): Tracked {
  const promise = run.done;
  const t: Tracked = {
    workflowId: run.workflowId,
    ...(run.runId ? { runId: run.runId } : {}),
    done: promise.then(
      () => (t.doneAt = Date.now()),
      () => undefined,
    ),
  };
  return t;
}

interface Progress {
  /** When the run first moved after the kill: a workflow task or an activity completed (by the new worker: the old one is dead). */
  at?: number;
  /** What held it until then: workflow task timeouts after the kill, by kind (sticky schedule-to-start, start-to-close). */
  heldBy: string[];
}

async function firstProgressAfter(client: Client, run: Tracked, since: number): Promise<Progress> {
  const { events } = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  const heldBy: string[] = [];
  let scheduledAt: number | undefined;
  for (const event of events ?? []) {
    const at = optionalTsToMs(event.eventTime);
    if (event.workflowTaskScheduledEventAttributes) scheduledAt = at;
    if (at === undefined || at <= since) continue;
    const timedOut = event.workflowTaskTimedOutEventAttributes?.timeoutType;
    if (timedOut !== undefined && timedOut !== null) {
      // A sticky task scheduled after the kill waited on the new worker's own sticky queue.
      const { TIMEOUT_TYPE_START_TO_CLOSE, TIMEOUT_TYPE_SCHEDULE_TO_START } = temporal.api.enums.v1.TimeoutType;
      const onNewWorker = timedOut === TIMEOUT_TYPE_SCHEDULE_TO_START && scheduledAt !== undefined && scheduledAt > since;
      heldBy.push(timedOut === TIMEOUT_TYPE_START_TO_CLOSE ? 'workflow task start-to-close' : timedOut === TIMEOUT_TYPE_SCHEDULE_TO_START ? `sticky schedule-to-start (${onNewWorker ? 'new' : 'dead'} worker's queue)` : `workflow task timeout ${timedOut}`);
    }
    if (event.workflowTaskCompletedEventAttributes || event.activityTaskCompletedEventAttributes) return { at, heldBy };
  }
  return { heldBy };
}

async function crashAndResume(options: {
  m: number;
  killAfterMs: number;
  client: Client;
  start: () => Promise<{ workflowId: string; runId?: string; done: Promise<unknown> }>;
  worker: () => BenchWorker | undefined;
  restart: () => Promise<{ worker: BenchWorker; startedToPollMs: number }>;
}): Promise<{ takeover?: string | undefined; inFlight: number; afterPoll: number[]; progressAfterPoll: number[]; heldBy: Record<string, number>; failed: number; startedToPollMs: number; allMs: number; rss?: number }> {
  const started = await Promise.all(Array.from({ length: options.m }, () => options.start()));
  const runs = started.map((s) => track(s));
  await sleep(options.killAfterMs);
  await options.worker()?.kill();
  const killedAt = Date.now();
  const open = runs.filter((r) => r.doneAt === undefined || r.doneAt > killedAt);
  const { worker, startedToPollMs } = await options.restart();
  const polledAt = worker.spawnedAt + startedToPollMs;
  const ends = await Promise.all(open.map((r) => r.done));
  const afterPoll = ends.filter((e): e is number => e !== undefined).map((e) => Math.max(0, e - polledAt));
  const progressed = await Promise.all(open.map((r) => firstProgressAfter(options.client, r, killedAt)));
  const progressAfterPoll = progressed.flatMap((p) => (p.at === undefined ? [] : [Math.max(0, p.at - polledAt)]));
  const heldBy: Record<string, number> = {};
  for (const held of progressed.flatMap((p) => p.heldBy)) heldBy[held] = (heldBy[held] ?? 0) + 1;
  return {
    takeover: worker.find(/took over|could not take over/)?.replace(/^.*?\[worker\] /, ''),
    inFlight: open.length,
    afterPoll,
    progressAfterPoll,
    heldBy,
    failed: ends.filter((e) => e === undefined).length,
    startedToPollMs,
    allMs: afterPoll.length ? Math.max(...afterPoll) : NaN,
    rss: worker.memory()?.peakRss,
  };
}

function describeHeld(held: Record<string, number>): string {
  const entries = Object.entries(held);
  return entries.length ? entries.map(([kind, n]) => `${n} ${kind}`).join(', ') : 'none';
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
    client: bench.platform.client,
    start: async () => {
      const run = await bench.postDeployment(bench.devBody(bench.unique('resume')));
      return { workflowId: run.workflowId, runId: run.runId, done: bench.platformResult(run) };
    },
    worker: () => bench.platformWorker,
    restart: () => bench.startPlatformWorker('platform-worker-2'),
  });
  const floor = await crashAndResume({
    m,
    killAfterMs: floorSingle / 2,
    client: bench.floorClient,
    start: async () => {
      const handle = await bench.startFloor({ activities: dev.activities });
      return { workflowId: handle.workflowId, done: bench.floorResult(handle) };
    },
    worker: () => bench.floorWorker,
    restart: () => bench.startFloorWorker('floor-worker-2'),
  });
  return [
    {
      scenario: 'resume',
      measures: `SIGKILL with ${m} started; new worker's first poll → each in-flight run moves again`,
      platform: distribution(platform.progressAfterPoll),
      floor: distribution(floor.progressAfterPoll),
      extra: { platformProgressed: platform.progressAfterPoll.length, floorProgressed: floor.progressAfterPoll.length },
      note: `runs whose history shows a workflow task or activity completed after the kill: platform ${platform.progressAfterPoll.length} of ${platform.inFlight}, floor ${floor.progressAfterPoll.length} of ${floor.inFlight}; workflow task timeouts before that: platform ${describeHeld(platform.heldBy)}, floor ${describeHeld(floor.heldBy)}; platform worker: ${platform.takeover ?? 'no takeover logged'}`,
    },
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
