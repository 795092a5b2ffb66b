/**
 * (c) Burst drain: N dev deploys of N distinct services requested at once; the time from the
 * first request until the last run has succeeded (drain), and each run's own POST → succeeded.
 * The floor: N floor runs started at once.
 */
import { performance } from 'node:perf_hooks';
import type { Bench } from '../lib/context';
import { distribution, mapLimit, mib, type Distribution, type Row } from '../lib/stats';
import { workflowTaskDurations } from '../lib/workflow-tasks';
import { cpuBetween, describeCpu, type CpuSpent } from '../lib/cpu';

const spread = (d: Distribution | undefined): string => (d ? `${Math.round(d.p50)}/${Math.round(d.p99)}/${Math.round(d.max)} ms` : '-');

export async function burstScenario(bench: Bench): Promise<Row[]> {
  const n = bench.sizes.burst;
  if (n <= 0) return [];
  const dev = await bench.devShape();
  const bodies = Array.from({ length: n }, () => bench.devBody(bench.unique('burst')));

  const platformCpuBefore = bench.readCpu();
  const t0 = performance.now();
  const platformEach: number[] = [];
  const platformRuns: { workflowId: string; runId: string }[] = [];
  let platformFailed = 0;
  // All at once, as many CI pipelines would; the API answers as fast as it can start them.
  await mapLimit(bodies, n, async (body) => {
    const s = performance.now();
    try {
      const run = await bench.postDeployment(body);
      platformRuns.push(run);
      await bench.platformResult(run);
      platformEach.push(performance.now() - s);
    } catch {
      platformFailed++;
    }
  });
  const platformDrain = performance.now() - t0;
  const platformCpu = cpuBetween(platformCpuBefore, bench.readCpu());

  const floorCpuBefore = bench.readCpu();
  const f0 = performance.now();
  const floorEach: number[] = [];
  const floorRuns: { workflowId: string }[] = [];
  await mapLimit(Array.from({ length: n }), n, async () => {
    const s = performance.now();
    const handle = await bench.startFloor({ activities: dev.activities });
    floorRuns.push(handle);
    await bench.floorResult(handle);
    floorEach.push(performance.now() - s);
  });
  const floorDrain = performance.now() - f0;
  const floorCpu = cpuBetween(floorCpuBefore, bench.readCpu());
  // Started → completed of every workflow task of the burst: what a workflow task timeout must clear.
  const platformTasks = await workflowTaskDurations(bench.platform.client, platformRuns);
  const floorTasks = await workflowTaskDurations(bench.floorClient, floorRuns);

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
      extra: {
        platformDrainMs: Math.round(platformDrain),
        floorDrainMs: Math.round(floorDrain),
        platformFailed,
        platformWorkflowTaskP99Ms: Math.round(platformTasks.durations?.p99 ?? NaN),
        platformWorkflowTaskMaxMs: Math.round(platformTasks.durations?.max ?? NaN),
        platformWorkflowTaskTimeouts: platformTasks.timedOut,
        floorWorkflowTaskP99Ms: Math.round(floorTasks.durations?.p99 ?? NaN),
        floorWorkflowTaskMaxMs: Math.round(floorTasks.durations?.max ?? NaN),
        ...cpuExtra('platform', platformCpu, n),
        ...cpuExtra('floor', floorCpu, n),
      },
      note:
        `drain (first request → last succeeded): platform ${(platformDrain / 1000).toFixed(1)} s${platformFailed ? ` (${platformFailed} did not succeed)` : ''}, floor ${(floorDrain / 1000).toFixed(1)} s; rate = runs completed per second of drain; ` +
        `workflow task started → completed p50/p99/max: platform ${spread(platformTasks.durations)} (${platformTasks.timedOut} timed out), floor ${spread(floorTasks.durations)} (${floorTasks.timedOut} timed out); ` +
        `CPU during the drain: platform ${describeCpu(platformCpu, n)}; floor ${describeCpu(floorCpu, n)}`,
    },
  ];
}

/** CPU milliseconds per run by role, and the machine's busy share, as latest.json numbers. */
function cpuExtra(side: string, spent: CpuSpent, runs: number): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [role, seconds] of Object.entries(spent.seconds)) extra[`${side}CpuMsPerRun ${role}`] = Math.round((seconds * 1000) / runs);
  if (spent.machineBusy !== undefined) extra[`${side}MachineBusy`] = spent.machineBusy;
  return extra;
}
