/**
 * How long one full run of each kind takes on the embedded default — real Temporal dev server,
 * ServiceNow simulator over HTTP, GitOps repository on disk — measured from the CI's POST to
 * `succeeded`. Prints numbers; asserts nothing. `npm run bench` (bench/main.ts) now measures
 * deploys and landing-zone creation against a floor; this one still covers landing-zone updates
 * and decommissions.
 *
 *   npx tsx bench/deploy-run.ts              5 dev runs, 3 staging runs with approval, 3 landing
 *                                            zones, each updated (quota) and decommissioned
 *   BENCH_RUNS=20 npx tsx bench/deploy-run.ts
 */
import { performance } from 'node:perf_hooks';
import { trivyReport } from '../test/helpers/fixtures';
import { deploymentBody, startTestPlatform, type TestPlatform } from '../test/helpers/platform';
import { stopOwnTemporal } from '../test/helpers/temporal';

const runs = Number(process.env.BENCH_RUNS ?? 5);

function stats(label: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(`${label.padEnd(44)} n=${samples.length}  mean ${mean.toFixed(0)} ms  p50 ${at(0.5).toFixed(0)} ms  p95 ${at(0.95).toFixed(0)} ms  min ${sorted[0]?.toFixed(0)} ms  max ${sorted.at(-1)?.toFixed(0)} ms`);
}

async function devRun(platform: TestPlatform, i: number): Promise<number> {
  const t0 = performance.now();
  const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: `bench-${i}` }));
  if (res.status !== 202) throw new Error(`POST failed: ${res.status} ${JSON.stringify(res.body)}`);
  await platform.waitForStatus(res.body.deploymentId, 'succeeded', 120_000);
  return performance.now() - t0;
}

async function stagingRun(platform: TestPlatform, i: number): Promise<{ total: number; afterApproval: number }> {
  const body = deploymentBody({ service: `bench-stg-${i}`, environment: 'staging' });
  body.scanReport = trivyReport(body.image as string, ['HIGH', 'MEDIUM', 'LOW']);
  const t0 = performance.now();
  const res = await platform.http('POST', '/v1/deployments', body);
  const waiting = await platform.waitForStatus(res.body.deploymentId, 'awaiting_approval', 120_000);
  const t1 = performance.now();
  await platform.simulator('approve', waiting.change!.number, 'bench.approver');
  await platform.waitForStatus(res.body.deploymentId, 'succeeded', 120_000);
  const t2 = performance.now();
  return { total: t2 - t0 - 0, afterApproval: t2 - t1 };
}

async function landingZoneRun(platform: TestPlatform, i: number): Promise<number> {
  const project = `bench-lz-${i}`;
  const t0 = performance.now();
  const res = await platform.http('POST', '/v1/landing-zones', {
    project,
    tenant: 'bench',
    class: 'node-web',
    owners: { emails: ['bench@example.com'], group: 'bench' },
    environments: ['dev', 'staging'],
  });
  if (res.status !== 202) throw new Error(`POST failed: ${res.status} ${JSON.stringify(res.body)}`);
  for (;;) {
    const status = await platform.http('GET', `/v1/landing-zones/${project}`);
    if (status.body.status === 'succeeded') return performance.now() - t0;
    if (['failed', 'rolled_back', 'cancelled'].includes(status.body.status)) throw new Error(`landing zone ${project} ended ${status.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An update or decommission of `project`, from the request to its run's end. */
async function operationRun(platform: TestPlatform, method: 'PATCH' | 'DELETE', project: string, body?: unknown): Promise<number> {
  const t0 = performance.now();
  const res = await platform.http(method, `/v1/landing-zones/${project}`, body);
  if (res.status !== 202) throw new Error(`${method} failed: ${res.status} ${JSON.stringify(res.body)}`);
  for (;;) {
    const op = (await platform.http('GET', `/v1/landing-zones/${project}`)).body.lastOperation;
    if (op?.runId === res.body.runId && op.status === 'succeeded') return performance.now() - t0;
    if (op?.runId === res.body.runId && ['failed', 'rolled_back', 'cancelled'].includes(op.status)) throw new Error(`${method} of ${project} ended ${op.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const platform = await startTestPlatform();
  console.log(`platform up (dev server, simulator, worker with bundled workflows, API) in ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    await devRun(platform, 0); // warm-up: first workflow task, first git commit
    const dev: number[] = [];
    for (let i = 1; i <= runs; i++) dev.push(await devRun(platform, i));
    stats('dev run, POST → succeeded (no approval)', dev);
    const total: number[] = [];
    const after: number[] = [];
    for (let i = 1; i <= Math.max(1, Math.ceil(runs / 2)); i++) {
      const r = await stagingRun(platform, i);
      total.push(r.total);
      after.push(r.afterApproval);
    }
    stats('staging run, POST → succeeded (incl. approve)', total);
    stats('staging run, approve click → succeeded', after);
    const zones: number[] = [];
    for (let i = 1; i <= Math.max(1, Math.ceil(runs / 2)); i++) zones.push(await landingZoneRun(platform, i));
    stats('landing zone (dev+staging), POST → succeeded', zones);
    const updates: number[] = [];
    const decommissions: number[] = [];
    for (let i = 1; i <= zones.length; i++) {
      updates.push(await operationRun(platform, 'PATCH', `bench-lz-${i}`, { quota: { pods: 30 + i } }));
      decommissions.push(await operationRun(platform, 'DELETE', `bench-lz-${i}`));
    }
    stats('landing-zone quota update (2 namespaces), PATCH → succeeded', updates);
    stats('landing-zone decommission (2 namespaces), DELETE → succeeded', decommissions);
    console.log(`rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB (API + worker + simulator in this process)`);
  } finally {
    await platform.stop();
    await stopOwnTemporal();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
