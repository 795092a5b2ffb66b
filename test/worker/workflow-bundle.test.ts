/**
 * The worker's workflow bundle cache (workers/workflow-bundle.ts): built once in a child process,
 * reused while its inputs are unchanged, rebuilt when one changes, and the bundle it produces is the
 * one the worker needs (every workflow, the failure converter) and runs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { deployWorkflowBundleOptions } from '../../workers/deploy-worker';
import { DEFAULT_SOURCE_ROOTS, loadWorkflowBundle, workflowBundleHash, type LoadWorkflowBundleOptions } from '../../workers/workflow-bundle';
import { loadHistory } from '../helpers/history-json';
import { quietWorkerRuntime, testTemporalAddress } from '../helpers/temporal';

const BUNDLE_FILE = /^workflow-bundle-[0-9a-f]{64}\.js$/;
/** A recorded run of the newest release in test/fixtures/histories (replayed by test/replay too). */
const RECORDED_DEPLOY = join(__dirname, '..', 'fixtures', 'histories', 'f949d99', 'deploy-dev-no-approval.json');

let scratch: string;
let cacheDir: string;
let firstCodePath: string;

function load(extra: Partial<LoadWorkflowBundleOptions> = {}, logs: string[] = []): ReturnType<typeof loadWorkflowBundle> {
  return loadWorkflowBundle({ bundleOptions: deployWorkflowBundleOptions, cacheDir, log: (line) => logs.push(line), ...extra });
}

function bundleFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => BUNDLE_FILE.test(name)).sort();
}

/** The files the bundle was built from, as its inline source map lists them. */
function bundledSources(code: string): string[] {
  const map = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,(\S+)\s*$/.exec(code);
  assert.ok(map?.[1], 'the bundle ends with an inline source map');
  return (JSON.parse(Buffer.from(map[1], 'base64').toString('utf8')) as { sources: string[] }).sources;
}

before(() => {
  quietWorkerRuntime();
  scratch = mkdtempSync(join(tmpdir(), 'workflow-bundle-test-'));
  cacheDir = join(scratch, 'cache');
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('the workflow bundle cache', () => {
  it('when two workers start at once on an empty cache, then both build and get the same complete bundle', async () => {
    const logs: string[] = [];
    const [a, b] = await Promise.all([load({}, logs), load({}, logs)]);
    assert.equal(a.codePath, b.codePath);
    assert.ok(a.built && b.built, logs.join('\n'));
    assert.deepEqual(readdirSync(cacheDir), [`workflow-bundle-${a.hash}.js`], 'one bundle, no temporary file left');
    assert.ok(statSync(a.codePath).size > 0);
    firstCodePath = a.codePath;
  });

  it('when the bundle is loaded again with unchanged inputs, then the cached file is returned and nothing is built', async () => {
    const logs: string[] = [];
    const again = await load({}, logs);
    assert.equal(again.codePath, firstCodePath);
    assert.equal(again.built, false);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] ?? '', /: cached at /);
  });

  it('when any file under a source root changes, then the hash changes', () => {
    const root = join(scratch, 'root-for-hash');
    mkdirSync(join(root, 'nested'), { recursive: true });
    writeFileSync(join(root, 'nested', 'types.ts'), 'export type A = 1;\n');
    const before = workflowBundleHash(deployWorkflowBundleOptions, [root]);
    assert.equal(workflowBundleHash(deployWorkflowBundleOptions, [root]), before, 'the hash is stable');
    writeFileSync(join(root, 'nested', 'types.ts'), 'export type A = 2;\n');
    assert.notEqual(workflowBundleHash(deployWorkflowBundleOptions, [root]), before, 'a changed file');
    writeFileSync(join(root, 'notes.md'), 'any extension counts\n');
    const withNewFile = workflowBundleHash(deployWorkflowBundleOptions, [root]);
    assert.notEqual(withNewFile, before, 'a new file');
    assert.notEqual(workflowBundleHash({ ...deployWorkflowBundleOptions, failureConverterPath: '/elsewhere.ts' }, [root]), withNewFile, 'other bundle options');
  });

  it('when an input changes, then the next load builds a new bundle and the cache keeps only the newest three', async () => {
    const extraRoot = join(scratch, 'extra-root');
    mkdirSync(extraRoot);
    writeFileSync(join(extraRoot, 'salt.txt'), 'a change to a hashed input\n');
    // Older bundles of earlier releases, older than the one built above.
    const longAgo = new Date('2020-01-01T00:00:00Z');
    for (const digit of ['1', '2', '3', '4']) {
      const old = join(cacheDir, `workflow-bundle-${digit.repeat(64)}.js`);
      writeFileSync(old, '// an old bundle\n');
      utimesSync(old, longAgo, new Date(longAgo.getTime() + Number(digit) * 1000));
    }
    const logs: string[] = [];
    const rebuilt = await load({ sourceRoots: [...DEFAULT_SOURCE_ROOTS, extraRoot] }, logs);
    assert.equal(rebuilt.built, true, logs.join('\n'));
    assert.notEqual(rebuilt.codePath, firstCodePath);
    assert.deepEqual(bundleFiles(cacheDir), [`workflow-bundle-${'4'.repeat(64)}.js`, rebuilt.codePath, firstCodePath].map((path) => path.split(sep).at(-1)).sort());
  });

  it('when the build fails, then the error quotes the build output and nothing is cached', async () => {
    const brokenDir = join(scratch, 'broken-workflows');
    mkdirSync(brokenDir);
    const workflowsPath = join(brokenDir, 'index.ts');
    writeFileSync(workflowsPath, "export { nothing } from './no-such-workflow-module';\n");
    const brokenCache = join(scratch, 'broken-cache');
    await assert.rejects(load({ cacheDir: brokenCache, bundleOptions: { ...deployWorkflowBundleOptions, workflowsPath }, sourceRoots: [brokenDir] }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^workflow bundle build failed \(exit code 1\)/);
      assert.match(error.message, /no-such-workflow-module/);
      return true;
    });
    assert.deepEqual(readdirSync(brokenCache), []);
  });

  it('when the cache directory cannot be created, then the error names it and the variable that moves it', async () => {
    const aFile = join(scratch, 'a-file');
    writeFileSync(aFile, '');
    await assert.rejects(load({ cacheDir: join(aFile, 'cache'), sourceRoots: [join(scratch, 'no-such-root')] }), /workflow bundle cache .*a-file\/cache is not writable .*WORKFLOW_BUNDLE_CACHE_DIR/);
  });
});

describe('the cached bundle', () => {
  it('holds every workflow and the failure converter, built from files under the hashed roots only', () => {
    const code = readFileSync(firstCodePath, 'utf8');
    const sources = bundledSources(code);
    assert.ok(sources.includes(deployWorkflowBundleOptions.failureConverterPath), 'the failure converter is compiled in');
    assert.ok(sources.includes(deployWorkflowBundleOptions.workflowsPath));
    // Outside node_modules (covered by the lockfiles and versions), every file webpack read must be
    // hashed, or a change to it would leave a stale bundle in the cache.
    const ours = sources.filter((source) => source.startsWith(sep) && !source.includes(`${sep}node_modules${sep}`));
    const unhashed = ours.filter((source) => !DEFAULT_SOURCE_ROOTS.some((root) => source.startsWith(root + sep)));
    assert.deepEqual(unhashed, [], 'bundled files outside the hashed source roots');
    for (const name of ['deployWorkflow', 'deployLaneWorkflow', 'landingZoneWorkflow', 'landingZoneUpdateWorkflow', 'landingZoneDecommissionWorkflow']) {
      assert.match(code, new RegExp(`\\b${name}\\b`), name);
    }
  });

  it('when a recorded deploy run is replayed with it, then the workflow code runs to the same end', async () => {
    const history = loadHistory(JSON.parse(readFileSync(RECORDED_DEPLOY, 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: firstCodePath }, replayName: 'deploy-dev-no-approval' }, history);
  });

  it('when a worker is created with it against the Temporal server, then the worker starts and stops', async () => {
    const connection = await NativeConnection.connect({ address: await testTemporalAddress() });
    try {
      const worker = await Worker.create({ connection, taskQueue: `workflow-bundle-test-${process.pid}`, workflowBundle: { codePath: firstCodePath } });
      await worker.runUntil(new Promise<void>((done) => setTimeout(done, 100)));
      assert.equal(worker.getState(), 'STOPPED');
    } finally {
      await connection.close();
    }
  });
});
