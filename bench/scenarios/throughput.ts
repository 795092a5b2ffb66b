/**
 * (b) Start throughput: how many runs a second can be started. The platform: autocannon against
 * `POST /v1/deployments` of an API process of its own (as in production: the API is its own
 * process), every request a distinct service and digest (runs of one service and environment
 * would supersede each other). The floor: `client.workflow.start` of the floor workflow from this
 * process, the same number of starts in flight.
 *
 * No worker polls either task queue: the runs started here never execute. That isolates the cost
 * of starting (HTTP, auth, validation, the audit write, the Temporal start) from the cost of
 * running; with a worker polling, the runs started would compete for the same two cores and the
 * number would mix both (the burst scenario measures running).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { deploymentBody } from '../../test/helpers/platform';
import { freePort, waitForPort } from '../../scripts/lib/processes';
import { spawnWorker } from '../lib/children';
import type { Bench } from '../lib/context';
import { distribution, mib, sleep, type Row } from '../lib/stats';

interface CannonOutcome {
  latencies: number[];
  ok: number;
  failed: number;
  durationS: number;
}

function cannon(url: string, token: string, connections: number, seconds: number, prefix: string): Promise<CannonOutcome> {
  let n = 0;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/v1/deployments',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            // A distinct service and digest per request: each is a new run, none supersedes another.
            setupRequest: (request) => ({ ...request, body: JSON.stringify(deploymentBody({ service: `${prefix}-${(n++).toString(36)}` })) }),
          },
        ],
      },
      (error, result) => {
        if (error) reject(error);
        else resolve({ latencies, ok, failed, durationS: result.duration });
      },
    );
    instance.on('response', (_client, statusCode: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      if (statusCode === 202) ok++;
      else failed++;
    });
  });
}

async function floorStarts(bench: Bench, concurrency: number, seconds: number, taskQueue: string, activities: number): Promise<{ latencies: number[]; ok: number; failed: number; durationS: number }> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await bench.floorClient.workflow.start('floorWorkflow', { taskQueue, workflowId: `floor-tp-${randomUUID()}`, args: [{ activities }] });
          ok++;
        } catch {
          failed++;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, ok, failed, durationS: (performance.now() - t0) / 1000 };
}

export async function throughputScenario(bench: Bench): Promise<Row[]> {
  const { sizes } = bench;
  const rows: Row[] = [];
  const activities = bench.shapes.dev?.activities ?? 10;
  const port = await freePort();
  const api = spawnWorker({
    label: 'api',
    entry: 'api/main.ts',
    runtime: bench.runtime,
    env: { ...bench.platform.env, API_PORT: String(port), TEMPORAL_TASK_QUEUE: `bench-unpolled-${randomUUID()}`, LOG_LEVEL: 'error' },
    tempDir: bench.tempDir,
  });
  const floorQueue = `bench-floor-unpolled-${randomUUID()}`;
  try {
    await waitForPort(port, 60_000);
    const url = `http://127.0.0.1:${port}`;
    // Warm-up: the first requests pay for the connection to Temporal and JIT.
    await cannon(url, bench.platform.tokens.admin, 2, 1, bench.unique('tpw'));
    await floorStarts(bench, 2, 1, floorQueue, activities);
    for (const connections of sizes.throughputConnections) {
      const platform = await cannon(url, bench.platform.tokens.admin, connections, sizes.throughputSeconds, bench.unique(`tp${connections}`));
      const apiRss = api.memory()?.peakRss;
      await sleep(500);
      const floor = await floorStarts(bench, connections, sizes.throughputSeconds, floorQueue, activities);
      rows.push({
        scenario: 'throughput',
        measures: `start, ${connections} in flight, ${sizes.throughputSeconds}s`,
        platform: distribution(platform.latencies),
        floor: distribution(floor.latencies),
        platformRate: platform.ok / platform.durationS,
        floorRate: floor.ok / floor.durationS,
        platformRssMiB: mib(apiRss),
        note: `platform: autocannon → POST /v1/deployments (API process RSS), ${platform.failed} not 202; floor: client.workflow.start, ${floor.failed} failed; no worker polls (start cost only); ×floor = floor rate / platform rate`,
      });
    }
  } finally {
    await api.stop();
  }
  return rows;
}
