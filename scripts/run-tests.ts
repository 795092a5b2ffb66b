/**
 * `npm test` (after typecheck and lint): starts ONE Temporal dev server for the whole suite, on a
 * free port and in memory, runs every test file with Node's test runner, and stops the server
 * whatever happens. Test files start everything else they need themselves (simulator, worker, API).
 *
 *   npm test                      all tests except the cluster suite
 *   npm test -- test/api          only files under test/api
 *   npm run test:cluster          the cluster suite (test/cluster): a real Kubernetes control plane,
 *                                 built once by scripts/cluster/build-control-plane.sh
 *   npm run test:chaos            the crash matrix (test/chaos): SIGKILLs at every stage
 *   npm run test:fuzz             property-based requests against every endpoint (test/fuzz)
 *   npm run test:replay           recorded histories of every workflow replayed (test/replay)
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnManaged } from './lib/processes';
import { startTemporalDevServer } from './lib/temporal-dev-server';
import { projectRoot } from './lib/tools';

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Suites with npm scripts of their own (`.ci/run` runs each): the cluster suite needs the control
 * plane (minutes to build on a new machine); chaos and fuzz are long by design; replay is its own
 * gate so a non-deterministic change is named as such.
 */
const SEPARATE_SUITES = ['test/cluster/', 'test/chaos/', 'test/fuzz/', 'test/replay/'];

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const files = testFiles(join(projectRoot, 'test'))
    .map((file) => relative(projectRoot, file))
    .filter((file) =>
      filters.length === 0 ? !SEPARATE_SUITES.some((suite) => file.startsWith(suite)) : filters.some((f) => file.startsWith(f.replace(/^\.\//, ''))),
    )
    .sort();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    return 1;
  }
  const started = Date.now();
  // Node's --test-timeout also bounds each whole file: the chaos matrix runs for minutes by design
  // (about 3 on 2 cores), so 15 leave room without letting a stuck file eat CI's budget.
  const timeoutMs = files.some((file) => file.startsWith('test/chaos/')) ? 900_000 : 300_000;
  const server = await startTemporalDevServer();
  console.log(`test: Temporal dev server at ${server.address} (started in ${Date.now() - started} ms); ${files.length} test files`);
  try {
    const child = spawnManaged(
      process.execPath,
      // Not --test-force-exit: on Node 20.20 it ends some files before their last tests run, and
      // says nothing (test/templates/pipelines.test.ts reported 55 of its 67 tests in 2 of 8 runs).
      // A file that leaks a handle waits for its timeout instead, and fails.
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', `--test-timeout=${timeoutMs}`, ...files],
      { cwd: projectRoot, stdio: 'inherit', env: { ...process.env, TEMPORAL_TEST_ADDRESS: server.address } },
    );
    return await new Promise<number>((done) => child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0))));
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
