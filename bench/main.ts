/**
 * `npm run bench`: the platform against its floor (what Temporal alone costs for runs of the same
 * shape), on a Temporal dev server of its own. Prints a table and writes bench/results/latest.json.
 * Asserts nothing. What each scenario measures: docs/performance.md.
 *
 *   npm run bench:smoke                       tiny sizes, about a minute and a half (CI)
 *   BENCH_SIZE=medium npm run bench           minutes
 *   BENCH_SIZE=full npm run bench             the sizes of issue 12 (burst 500, 10,000 parked): long
 *   BENCH_SCENARIOS=latency,burst npm run bench   only some (latency, throughput, burst, resume, parked)
 *   BENCH_RUNTIME=tsx npm run bench           children from source under tsx, as npm start runs them (bench/lib/runtime.ts)
 *   BENCH_BURST=50 BENCH_PARKED=200 …         any size on its own (bench/lib/sizes.ts)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer, type DevServer } from '../scripts/lib/temporal-dev-server';
import { projectRoot } from '../scripts/lib/tools';
import { startTestPlatform, type TestPlatform } from '../test/helpers/platform';
import { startDelayProxy, type DelayProxy } from '../test/support/delay-proxy';
import { Bench } from './lib/context';
import { sizesFrom } from './lib/sizes';
import { compileChildren, runtimeFrom } from './lib/runtime';
import { formatTable, ratio, type Row } from './lib/stats';
import { burstScenario } from './scenarios/burst';
import { latencyScenario } from './scenarios/latency';
import { parkedScenario } from './scenarios/parked';
import { resumeScenario } from './scenarios/resume';
import { throughputScenario } from './scenarios/throughput';

const SCENARIOS = ['latency', 'throughput', 'burst', 'resume', 'parked'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

async function main(): Promise<number> {
  const sizes = sizesFrom(process.env);
  const selected = (process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((s) => s.trim()) : [...SCENARIOS]) as ScenarioName[];
  for (const name of selected) if (!SCENARIOS.includes(name)) throw new Error(`BENCH_SCENARIOS: unknown scenario "${name}" (${SCENARIOS.join(', ')})`);
  const began = performance.now();
  const log = (line: string): void => console.log(`bench [${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  log(`size ${sizes.name}: ${JSON.stringify(sizes)}`);
  const runtime = runtimeFrom(process.env);
  if (runtime === 'compiled') log(`child processes compiled into dist/ in ${await compileChildren()} ms (BENCH_RUNTIME=tsx runs them from source)`);
  else log('child processes run under tsx (BENCH_RUNTIME=tsx): their memory is npm start\'s, not the image\'s');

  const tempDir = mkdtempSync(join(tmpdir(), 'bench-'));
  const temporalDbFile = join(tempDir, 'temporal.sqlite');
  let server: DevServer | undefined;
  let platform: TestPlatform | undefined;
  let proxy: DelayProxy | undefined;
  let connection: Connection | undefined;
  let bench: Bench | undefined;
  const cleanup = async (): Promise<void> => {
    // A profiled worker writes its profile on a clean exit only.
    await (process.env.BENCH_CPU_PROFILE ? bench?.platformWorker?.stop() : bench?.platformWorker?.kill());
    await bench?.floorWorker?.kill();
    await proxy?.close();
    await platform?.stop();
    await connection?.close();
    await server?.stop();
    rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

  const rows: Row[] = [];
  const errors: Record<string, string> = {};
  const startup: Record<string, number> = {};
  try {
    // File-backed, as `npm start` runs it, so the database's growth can be measured.
    server = await startTemporalDevServer({ dbFile: temporalDbFile, logLevel: 'error' });
    log(`Temporal dev server at ${server.address}`);
    let simulatorUrl = '';
    proxy = await startDelayProxy({ target: () => simulatorUrl });
    platform = await startTestPlatform({ temporalAddress: server.address, startWorker: false });
    simulatorUrl = platform.simulatorUrl;
    connection = await Connection.connect({ address: server.address });
    const floorClient = new Client({ connection, namespace: 'default' });
    bench = new Bench(sizes, platform, floorClient, connection, `bench-floor-${randomUUID()}`, server.address, tempDir, proxy, log, runtime);
    bench.serverPid = server.process.pid;
    const platformWorker = await bench.startPlatformWorker('platform-worker');
    const floorWorker = await bench.startFloorWorker('floor-worker');
    startup.platformWorkerStartToPollMs = Math.round(platformWorker.startedToPollMs);
    startup.floorWorkerStartToPollMs = Math.round(floorWorker.startedToPollMs);
    log(`workers polling (spawn → first poll: platform ${platformWorker.startedToPollMs} ms, floor ${floorWorker.startedToPollMs} ms)`);

    const run: Record<ScenarioName, () => Promise<Row[]>> = {
      latency: () => latencyScenario(bench as Bench),
      throughput: () => throughputScenario(bench as Bench),
      burst: () => burstScenario(bench as Bench),
      resume: () => resumeScenario(bench as Bench),
      // Last: its runs stay parked (and poll ServiceNow) until the server stops.
      parked: () => parkedScenario(bench as Bench, temporalDbFile),
    };
    for (const name of SCENARIOS.filter((s) => selected.includes(s))) {
      log(`${name} …`);
      try {
        const got = await run[name]();
        rows.push(...got);
        console.log(formatTable(got));
      } catch (error) {
        errors[name] = error instanceof Error ? error.message : String(error);
        log(`${name} FAILED: ${errors[name]}`);
      }
    }
  } finally {
    await cleanup();
  }

  const totalS = (performance.now() - began) / 1000;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryMiB: Math.round(totalmem() / 1024 / 1024), node: process.version, platform: `${process.platform}-${process.arch}` },
    sizes,
    runtime,
    scenarios: selected,
    startup,
    totalSeconds: Math.round(totalS),
    rows: rows.map((r) => ({ ...r, ratioToFloor: ratio(r) })),
    errors,
  };
  const resultsDir = join(projectRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nbench ${sizes.name} on ${result.machine.cpus} CPUs, ${result.machine.memoryMiB} MiB, node ${process.version}, ${Math.round(totalS)} s in all`);
  console.log(formatTable(rows));
  console.log('\n×floor: platform p50 / floor p50 (for rates: floor rate / platform rate). Results: bench/results/latest.json');
  if (Object.keys(errors).length) {
    console.log(`\nscenarios that failed: ${Object.entries(errors).map(([n, e]) => `${n}: ${e}`).join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
