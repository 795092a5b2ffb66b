/**
 * (a) Single-run latency, one run at a time: a dev deploy from the CI's POST to `succeeded`; a
 * staging deploy from the approver's click (simulator → signed webhook → API → run) to
 * `succeeded`; a landing-zone creation from POST to `succeeded`. Each against a floor run with
 * the same number of no-op activities (for staging: parked before the same activity, released by
 * a signal).
 */
import { performance } from 'node:perf_hooks';
import type { Bench } from '../lib/context';
import { distribution, mib, type Row } from '../lib/stats';

export async function latencyScenario(bench: Bench): Promise<Row[]> {
  const { sizes } = bench;
  const rows: Row[] = [];
  const dev = await bench.devShape();
  await bench.floorResult(await bench.startFloor({ activities: dev.activities })); // floor warm-up

  const platformDev: number[] = [];
  for (let i = 0; i < sizes.latencyDev; i++) {
    const t0 = performance.now();
    await bench.platformResult(await bench.postDeployment(bench.devBody()));
    platformDev.push(performance.now() - t0);
  }
  const floorDev: number[] = [];
  for (let i = 0; i < sizes.latencyDev; i++) {
    const t0 = performance.now();
    await bench.floorResult(await bench.startFloor({ activities: dev.activities }));
    floorDev.push(performance.now() - t0);
  }
  rows.push({
    scenario: 'latency',
    measures: `dev deploy POST → succeeded (${dev.activities} activities)`,
    platform: distribution(platformDev),
    floor: distribution(floorDev),
    platformRssMiB: mib(bench.platformWorker?.memory()?.peakRss),
    floorRssMiB: mib(bench.floorWorker?.memory()?.peakRss),
    note: 'floor: start → result of a run with as many no-op activities',
  });

  if (sizes.latencyStaging > 0) {
    const staging = await bench.stagingShape();
    const platformStaging: number[] = [];
    for (let i = 0; i < sizes.latencyStaging; i++) {
      const run = await bench.postDeployment(bench.stagingBody());
      const change = await bench.awaitApproval(run);
      const t0 = performance.now();
      await bench.approve(change);
      await bench.platformResult(run);
      platformStaging.push(performance.now() - t0);
    }
    const floorStaging: number[] = [];
    for (let i = 0; i < sizes.latencyStaging; i++) {
      const handle = await bench.startFloor({ activities: staging.activities, parkBefore: staging.beforeWait ?? 0 });
      await bench.floorParked(handle);
      const t0 = performance.now();
      await handle.signal('go');
      await bench.floorResult(handle);
      floorStaging.push(performance.now() - t0);
    }
    rows.push({
      scenario: 'latency',
      measures: `staging approve → succeeded (${staging.activities} activities)`,
      platform: distribution(platformStaging),
      floor: distribution(floorStaging),
      note: `floor: signal → result of a run parked before activity ${staging.beforeWait ?? 0} of ${staging.activities}; the platform's approve includes the simulator's webhook call and the run's read of the change`,
    });
  }

  if (sizes.latencyLandingZones > 0) {
    const createZone = async (): Promise<{ ms: number; workflowId: string; runId: string }> => {
      const project = bench.unique('lz');
      const t0 = performance.now();
      const answer = await bench.post('/v1/landing-zones', {
        project,
        tenant: 'bench',
        class: 'node-web',
        owners: { emails: ['bench@example.com'], group: 'bench' },
        environments: ['dev', 'staging'],
      });
      const run = { workflowId: String(answer.landingZoneId), runId: String(answer.runId) };
      await bench.platformResult(run);
      return { ms: performance.now() - t0, ...run };
    };
    const warm = await createZone();
    const shape = await bench.shapeOf(warm.workflowId, warm.runId);
    bench.shapes.landingZone = shape;
    const platformZones: number[] = [];
    for (let i = 0; i < sizes.latencyLandingZones; i++) platformZones.push((await createZone()).ms);
    const floorZones: number[] = [];
    for (let i = 0; i < sizes.latencyLandingZones; i++) {
      const t0 = performance.now();
      await bench.floorResult(await bench.startFloor({ activities: shape.activities }));
      floorZones.push(performance.now() - t0);
    }
    rows.push({
      scenario: 'latency',
      measures: `landing zone (dev+staging) POST → succeeded (${shape.activities} activities)`,
      platform: distribution(platformZones),
      floor: distribution(floorZones),
    });
  }
  return rows;
}
