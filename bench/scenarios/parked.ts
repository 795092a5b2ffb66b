/**
 * (e) Parked runs: K staging deploys waiting for approval, as on a busy day before a CAB meeting.
 * What waiting costs: the worker's memory, the Temporal database's growth, and the reads of
 * ServiceNow (counted at a pass-through proxy in front of the simulator, over a window): the
 * approval sweeper's one query per SERVICENOW_POLL_INTERVAL (a minute by default, ADR 16), plus
 * per-run reads if any run still polled its own change. Then some are approved through the
 * simulator (which calls the signed webhook): approve → the run's deploy step starts. The floor: K
 * floor runs parked on a signal before the same activity; signal → its next activity starts.
 */
import { statSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import type { MemoryReport } from '../lib/children';
import type { Bench, PostedRun } from '../lib/context';
import { distribution, mapLimit, mib, sleep, type Row } from '../lib/stats';

function fileSize(path: string | undefined): number | undefined {
  if (!path) return undefined;
  let total = 0;
  let found = false;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(`${path}${suffix}`).size;
      found = true;
    } catch {
      // not there
    }
  }
  return found ? total : undefined;
}

export async function parkedScenario(bench: Bench, temporalDbFile: string | undefined): Promise<Row[]> {
  const { sizes } = bench;
  const k = sizes.parked;
  if (k <= 0) return [];
  const staging = await bench.stagingShape();
  const parkBefore = staging.beforeWait ?? 0;
  const taskQueue = bench.platform.config.temporal.taskQueue;
  const dbBefore = fileSize(temporalDbFile);

  // --- the platform: K runs parked ---
  const parkStart = Date.now();
  const runs: PostedRun[] = await mapLimit(Array.from({ length: k }), sizes.setupConcurrency, () => bench.postDeployment(bench.stagingBody(bench.unique('park'))));
  const query = `TaskQueue = '${taskQueue}' AND DeployStatus = 'awaiting_approval'`;
  // Parking runs at about 5 runs/s on 2 cores (the Temporal server is the busiest process): 300 ms each is the margin.
  const parkDeadline = Date.now() + 120_000 + k * 300;
  for (;;) {
    const { count } = await bench.platform.client.workflow.count(query);
    if (count >= k) break;
    if (Date.now() > parkDeadline) throw new Error(`only ${count} of ${k} staging runs reached awaiting_approval`);
    await sleep(1_000);
  }
  const parkedAfterMs = Date.now() - parkStart;
  const windowStart = Date.now();
  await sleep(sizes.parkedWindowSeconds * 1000);
  const windowEnd = Date.now();
  const reads = bench.serviceNowProxy.seen.filter((r) => r.at >= windowStart && r.at < windowEnd && r.method === 'GET').length;
  const readsWhileParking = bench.serviceNowProxy.seen.filter((r) => r.at >= parkStart && r.at < windowStart && r.method === 'GET').length;
  const pollIntervalMs = bench.platform.config.servicenow.pollIntervalMs;
  const platformMemory = bench.platformWorker?.memory();
  const dbAfterPlatform = fileSize(temporalDbFile);

  // --- approve some: approve → deploy step started ---
  const approveCount = Math.min(sizes.parkedApprove, k);
  const picked = runs.slice(0, approveCount);
  const approvals: { run: PostedRun; sentAt: number; answeredMs: number }[] = [];
  for (const run of picked) {
    const view = await bench.status(run);
    if (!view?.change) throw new Error(`${run.workflowId} has no change`);
    const sentAt = Date.now();
    await bench.approve(view.change.number);
    approvals.push({ run, sentAt, answeredMs: Date.now() - sentAt });
  }
  const toDeploy: number[] = [];
  let notDeployed = 0;
  /** Why an approved run shows no deploy step: its end state, so a miss is explained, not just counted. */
  const misses = new Map<string, number>();
  await mapLimit(approvals, 20, async ({ run, sentAt }) => {
    let ended = 'succeeded';
    try {
      await bench.platformResult(run);
    } catch (error) {
      ended = `failed (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message).slice(0, 120) : String(error)})`;
    }
    const view = await bench.status(run);
    // An ended run's status query needs the worker to replay it; a busy worker may not answer in
    // time, and then the history says when the deploy step was scheduled.
    const deployStartedAt = view ? view.steps.find((s) => s.name === 'deploy')?.startedAt : await bench.activityScheduledAt(run, 'deployRelease');
    if (deployStartedAt) {
      toDeploy.push(Date.parse(deployStartedAt) - sentAt);
      return;
    }
    notDeployed++;
    const why = view ? `${view.status} at ${view.stage}${view.error ? `: ${view.error.type}` : ''}` : `no status view (query unanswered), run ${ended}`;
    misses.set(why, (misses.get(why) ?? 0) + 1);
  });

  // --- the floor: K runs parked on a signal (BENCH_PARKED_FLOOR=0 skips it: half the time at 10,000) ---
  const floor = sizes.parkedFloor ? await parkFloorRuns(bench, { k, approveCount, activities: staging.activities, parkBefore }) : undefined;
  const floorMemory = floor?.memory;
  const dbAfterFloor = floor ? fileSize(temporalDbFile) : undefined;

  const perRunKiB = (after: number | undefined, before: number | undefined): string =>
    after !== undefined && before !== undefined ? ((after - before) / 1024 / k).toFixed(1) : '-';
  const readsPerMinute = (reads / ((windowEnd - windowStart) / 1000)) * 60;
  const approveAnswered = distribution(approvals.map((a) => a.answeredMs));
  return [
    {
      scenario: 'parked',
      measures: `${k} waiting for approval: worker memory`,
      platformRssMiB: mib(platformMemory?.rss),
      floorRssMiB: mib(floorMemory?.rss),
      extra: {
        platformHeapUsedMiB: mib(platformMemory?.heapUsed) ?? NaN,
        floorHeapUsedMiB: mib(floorMemory?.heapUsed) ?? NaN,
        platformPeakRssMiB: mib(platformMemory?.peakRss) ?? NaN,
        floorPeakRssMiB: mib(floorMemory?.peakRss) ?? NaN,
        platformParkSetupMs: parkedAfterMs,
        floorParkSetupMs: floor?.parkedAfterMs ?? NaN,
        temporalDbBytesBefore: dbBefore ?? NaN,
        temporalDbBytesAfterPlatform: dbAfterPlatform ?? NaN,
        temporalDbBytesAfterFloor: dbAfterFloor ?? NaN,
        serviceNowReadsInWindow: reads,
        serviceNowWindowS: Math.round((windowEnd - windowStart) / 1000),
        serviceNowReadsPerMinute: Math.round(readsPerMinute * 10) / 10,
        serviceNowReadsWhileParking: readsWhileParking,
        serviceNowPollIntervalMs: pollIntervalMs,
      },
      note:
        `heap used: platform ${mib(platformMemory?.heapUsed) ?? '-'} MiB, floor ${mib(floorMemory?.heapUsed) ?? '-'} MiB; ` +
        `Temporal DB growth per parked run (incl. the approved ones' history before the floor ran): platform ${perRunKiB(dbAfterPlatform, dbBefore)} KiB, floor ${perRunKiB(dbAfterFloor, dbAfterPlatform)} KiB; ` +
        `ServiceNow reads while all parked: ${reads} in ${Math.round((windowEnd - windowStart) / 1000)} s = ${readsPerMinute.toFixed(0)}/min` +
        `${windowEnd - windowStart < pollIntervalMs ? ` (window shorter than the ${Math.round(pollIntervalMs / 1000)} s poll interval: not representative)` : ''}, ${readsWhileParking} while parking (floor: none); ` +
        `all parked after: platform ${(parkedAfterMs / 1000).toFixed(1)} s, floor ${floor ? `${(floor.parkedAfterMs / 1000).toFixed(1)} s` : 'not run (BENCH_PARKED_FLOOR=0)'}`,
    },
    {
      scenario: 'parked',
      measures: `approve ${approveCount} of ${k} → deploy step starts`,
      platform: distribution(toDeploy),
      floor: distribution(floor?.toResume ?? []),
      extra: { approveAnsweredP50Ms: approveAnswered?.p50 ?? NaN, approveAnsweredP99Ms: approveAnswered?.p99 ?? NaN, notDeployed },
      note: `approvals one after another; the simulator's approve call (webhook → API → run reads the change → answer) took p50 ${approveAnswered?.p50 ?? '-'} ms, p99 ${approveAnswered?.p99 ?? '-'} ms; floor: signal → next activity starts${notDeployed ? `; ${notDeployed} approved runs never deployed (${[...misses].map(([why, n]) => `${n}× ${why}`).join('; ')})` : ''}`,
    },
  ];
}

/** K floor runs parked on a signal, then `approveCount` of them signalled one after another: signal → next activity starts. */
async function parkFloorRuns(
  bench: Bench,
  shape: { k: number; approveCount: number; activities: number; parkBefore: number },
): Promise<{ memory: MemoryReport | undefined; parkedAfterMs: number; toResume: number[] }> {
  const { k, approveCount } = shape;
  const { sizes } = bench;
  const floorStart = Date.now();
  const handles: WorkflowHandle[] = await mapLimit(Array.from({ length: k }), sizes.setupConcurrency, () =>
    bench.startFloor({ activities: shape.activities, parkBefore: shape.parkBefore }),
  );
  await mapLimit(handles, sizes.setupConcurrency, (h) => bench.floorParked(h, 120_000 + k * 50));
  const parkedAfterMs = Date.now() - floorStart;
  await sleep(Math.min(sizes.parkedWindowSeconds, 10) * 1000);
  const memory = bench.floorWorker?.memory();
  const toResume: number[] = [];
  const sent: number[] = [];
  for (const handle of handles.slice(0, approveCount)) {
    sent.push(Date.now());
    await handle.signal('go');
  }
  await mapLimit(handles.slice(0, approveCount), 20, async (handle, i) => {
    const { resumedAt } = await bench.floorResult(handle);
    if (resumedAt !== undefined) toResume.push(resumedAt - (sent[i] ?? NaN));
  });
  return { memory, parkedAfterMs, toResume };
}
