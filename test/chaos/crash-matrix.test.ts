/**
 * The crash matrix (`npm run test:chaos`): for every stage of a deploy run and of a landing-zone
 * creation, including compensation, the worker process is SIGKILLed (and a new one started), or the
 * Temporal server is SIGKILLed (and started again on the same port and database file), right when
 * the run is in that stage. Every run must still end in its correct final state with exactly one
 * ServiceNow change and no duplicated GitOps commit or step. Then: ServiceNow slower than the
 * worker's request timeout, and a burst of dev deploys with a worker kill in the middle.
 * A stage × fault → result table is printed at the end; every cell is also a test.
 *
 * CHAOS_BURST (default 100) sizes the burst; CHAOS_CONCURRENCY (default 6) how many cells run at
 * once (each has its own platform, task queue, GitOps repository and, for Temporal kills, server).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalGitSourceRepositories } from '../../activities/adapters/git-source';
import type { StepRecord } from '../../shared/contracts/run';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, uniqueDigest } from '../helpers/platform';
import { until } from '../helpers/until';
import { isChangeCreate, Lab, sleep, type HookRules } from './lab';

type Fault = 'worker' | 'temporal';
const FAULTS: Record<Fault, string> = { worker: 'worker SIGKILL', temporal: 'Temporal SIGKILL' };
type Expected = 'succeeded' | 'rolled_back';

interface Run {
  workflowId: string;
  runId: string;
  /** Landing zones: the project (their status is read by project). */
  project?: string;
}

interface Row {
  name: string;
  kind: 'deploy' | 'landing-zone';
  expected: Expected;
  hook?: (id: string) => HookRules;
  /** Set-up before the run starts (after the hook). */
  prepare?: (lab: Lab, id: string) => Promise<void>;
  /** Hold the run's first change create in the proxy (to kill while it is in transit). */
  holdCreate?: boolean;
  /** True once the run is in the stage. */
  reached: (lab: Lab, run: Run) => Promise<boolean> | boolean;
  /** The approval is the stage: approve only after the fault. */
  approveAfterFault?: boolean;
}

const activity = (type: string, times = 1) => (lab: Lab, run: Run) => lab.scheduled(run.workflowId, run.runId, type, times);
const hookHits = (n: number) => (lab: Lab) => lab.hookHits() >= n;
const waiting = async (lab: Lab, run: Run) => (await lab.waitingChange(run.workflowId, run.runId)) !== undefined;
const created = (lab: Lab) => lab.proxy.seen.some((r) => r.held && isChangeCreate(r));
const SLOW_MS = 3_000;

const DEPLOY_ROWS: Row[] = [
  { name: 'scan', kind: 'deploy', expected: 'succeeded', reached: activity('scanImage') },
  { name: 'render', kind: 'deploy', expected: 'succeeded', reached: activity('renderRelease') },
  { name: 'openChange', kind: 'deploy', expected: 'succeeded', holdCreate: true, reached: created },
  { name: 'awaitApproval', kind: 'deploy', expected: 'succeeded', approveAfterFault: true, reached: waiting },
  { name: 'deploy', kind: 'deploy', expected: 'succeeded', hook: (id) => ({ slow: { pattern: `/${id}/app/`, ms: SLOW_MS } }), reached: hookHits(1) },
  { name: 'wireMesh', kind: 'deploy', expected: 'succeeded', hook: (id) => ({ slow: { pattern: `/${id}/mesh/`, ms: SLOW_MS } }), reached: hookHits(1) },
  { name: 'verify', kind: 'deploy', expected: 'succeeded', reached: activity('verifyRollout') },
  {
    // The mesh commit is refused (final), so the deploy commit is reverted: killed during that revert.
    name: 'compensate (wireMesh refused → undo deploy)',
    kind: 'deploy',
    expected: 'rolled_back',
    hook: (id) => ({ refuse: `/${id}/mesh/`, slow: { pattern: `/${id}/app/`, ms: SLOW_MS } }),
    reached: hookHits(2),
  },
];

const LZ_ROWS: Row[] = [
  { name: 'openChange', kind: 'landing-zone', expected: 'succeeded', holdCreate: true, reached: created },
  { name: 'awaitApproval', kind: 'landing-zone', expected: 'succeeded', approveAfterFault: true, reached: waiting },
  { name: 'namespaces', kind: 'landing-zone', expected: 'succeeded', hook: () => ({ slow: { pattern: '/_namespace/', ms: SLOW_MS } }), reached: hookHits(1) },
  { name: 'imageRepository', kind: 'landing-zone', expected: 'succeeded', reached: activity('ensureImageRepository') },
  { name: 'configuration', kind: 'landing-zone', expected: 'succeeded', reached: activity('writeProjectConfiguration') },
  { name: 'sourceRepository', kind: 'landing-zone', expected: 'succeeded', reached: activity('createSourceRepository') },
  { name: 'credentials', kind: 'landing-zone', expected: 'succeeded', reached: activity('issueProjectToken') },
  { name: 'register', kind: 'landing-zone', expected: 'succeeded', reached: activity('registerLandingZone') },
  { name: 'notify', kind: 'landing-zone', expected: 'succeeded', reached: activity('notifyOwners') },
  {
    // Someone owns the repository name: sourceRepository fails, the namespaces are reverted; killed during the first revert.
    name: 'compensate (sourceRepository taken → undo)',
    kind: 'landing-zone',
    expected: 'rolled_back',
    hook: () => ({ slow: { pattern: '/_namespace/', ms: SLOW_MS } }),
    prepare: async (lab, id) => {
      await createLocalGitSourceRepositories({ rootDir: join(lab.platform.dataDir, 'repositories') }).create({
        name: `retail/${id}`,
        files: { 'README.md': 'squatter\n' },
        initialCommit: { message: 'squat', author: { name: 'someone', email: 'someone@example.com' } },
        idempotencyKey: 'not-the-landing-zone',
      });
    },
    reached: hookHits(3),
  },
];

const LZ_ENVIRONMENTS = ['dev', 'prod'];

// --- the table -------------------------------------------------------------------------------

const table = new Map<string, Map<string, string>>();
for (const row of [...DEPLOY_ROWS, ...LZ_ROWS]) table.set(`${row.kind}: ${row.name}`, new Map());
function record(row: string, column: string, result: string): void {
  if (!table.has(row)) table.set(row, new Map());
  table.get(row)!.set(column, result);
}
/** The cases outside the matrix: case → result. */
const special = new Map<string, string>();

function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

after(() => {
  const columns = Object.values(FAULTS);
  const out = [
    '',
    'chaos: stage × fault → result',
    ...markdownTable(['stage', ...columns], [...table.entries()].map(([row, cells]) => [row, ...columns.map((c) => cells.get(c) ?? '– (not run)')])),
    '',
    ...markdownTable(['case', 'result'], [...special.entries()].map(([name, result]) => [name, result])),
    '',
  ];
  console.log(out.join('\n'));
});

// --- one cell ---------------------------------------------------------------------------------

let serial = 0;

async function startRun(lab: Lab, row: Row, id: string): Promise<Run> {
  if (row.kind === 'deploy') {
    const image = `registry.example.com/payments/${id}:1.0.0@${uniqueDigest()}`;
    const started = await lab.platform.http('POST', '/v1/deployments', deploymentBody({ service: id, environment: 'staging', image, scanReport: trivyReport(image) }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return { workflowId: started.body.deploymentId, runId: started.body.runId };
  }
  const started = await lab.platform.http('POST', '/v1/landing-zones', {
    project: id,
    tenant: 'retail',
    class: 'node-web',
    owners: { emails: [`${id}-owner@example.com`], group: `team-${id}` },
    environments: LZ_ENVIRONMENTS,
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return { workflowId: started.body.landingZoneId, runId: started.body.runId, project: id };
}

/** Approves the run's change once the server has it waiting; until `stop()`. */
function approver(lab: Lab, run: Run): { stop: () => void; approved: () => boolean } {
  let stopped = false;
  let done = false;
  void (async () => {
    while (!stopped && !done) {
      try {
        const number = await lab.waitingChange(run.workflowId, run.runId);
        if (number) {
          await lab.platform.simulator('approve', number, 'ops.olga');
          done = true;
        }
      } catch {
        // the server may be down on purpose: try again
      }
      await sleep(200);
    }
  })();
  return { stop: () => (stopped = true), approved: () => done };
}

interface FinalView {
  status: string;
  steps: StepRecord[];
}

async function finalView(lab: Lab, row: Row, run: Run): Promise<FinalView> {
  if (row.kind === 'deploy') {
    const snapshot = await lab.platform.deployments.snapshot(run.workflowId, run.runId);
    assert.ok(snapshot?.view, 'the deployment has a status');
    return snapshot.view;
  }
  const res = await lab.platform.http('GET', `/v1/landing-zones/${run.project}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as FinalView;
}

async function runCell(row: Row, fault: Fault): Promise<string> {
  serial += 1;
  const id = `c${serial}-${row.kind === 'deploy' ? 'd' : 'lz'}-${fault === 'worker' ? 'w' : 't'}`;
  const lab = await Lab.open({ ownTemporal: fault === 'temporal' });
  let approval: ReturnType<typeof approver> | undefined;
  try {
    const hook = row.hook?.(id);
    if (hook) await lab.installHook(hook);
    await row.prepare?.(lab, id);
    if (row.holdCreate) lab.proxy.hold(isChangeCreate, { delayMs: SLOW_MS });
    lab.startWorker();
    const run = await startRun(lab, row, id);
    if (!row.approveAfterFault) approval = approver(lab, run);

    await until(`${row.kind} ${run.workflowId} to reach ${row.name}`, () => row.reached(lab, run), { timeoutMs: 120_000, everyMs: 25, context: () => lab.context(), errorsMeanNotYet: true });
    const faultAt = Date.now();
    if (fault === 'worker') {
      await lab.killWorker();
      if (row.approveAfterFault) approval = approver(lab, run);
      lab.startWorker();
    } else {
      await lab.temporal!.kill();
      await lab.temporal!.restart();
      if (row.approveAfterFault) approval = approver(lab, run);
    }

    const closed = await until(`${run.workflowId} to end`, () => lab.closedAt(run.workflowId, run.runId), { timeoutMs: 150_000, everyMs: 250, context: () => lab.context(), errorsMeanNotYet: true });
    approval?.stop();
    const recovered = ((closed.getTime() - faultAt) / 1000).toFixed(1);
    const view = await finalView(lab, row, run);
    const changes = await lab.changes(run.runId);
    const commits = lab.commitsOf(run.runId);
    const keys = commits.map((c) => c.key ?? `(no key) ${c.subject}`);
    const doneSteps = view.steps.filter((s) => s.status === 'succeeded').map((s) => s.name);
    const evidence = `${view.status}, ${changes.length} change${changes.length === 1 ? '' : 's'}, ${commits.length} commit${commits.length === 1 ? '' : 's'}`;
    const context = (): string => `${evidence}\nsteps: ${JSON.stringify(view.steps.map((s) => [s.name, s.status]))}\ncommits: ${commits.map((c) => c.subject).join(' | ')}\n${lab.context()}`;
    try {
      assert.equal(view.status, row.expected, `final status\n${context()}`);
      assert.equal(changes.length, 1, `exactly one change for the run\n${context()}`);
      assert.equal(changes[0]?.close_code, row.expected === 'succeeded' ? 'successful' : 'unsuccessful', `the change is closed with the outcome\n${context()}`);
      const expectedCommits = (row.kind === 'deploy' ? 2 : LZ_ENVIRONMENTS.length * (row.expected === 'succeeded' ? 1 : 2));
      assert.equal(commits.length, expectedCommits, `GitOps commits of the run\n${context()}`);
      assert.equal(new Set(keys).size, keys.length, `no commit made twice (idempotency keys)\n${context()}`);
      assert.equal(new Set(doneSteps).size, doneSteps.length, `no step done twice\n${context()}`);
      if (row.kind === 'landing-zone' && row.expected === 'succeeded') {
        const outbox = join(lab.platform.dataDir, 'outbox', 'notifications.jsonl');
        const notes = existsSync(outbox) ? readFileSync(outbox, 'utf8').split('\n').filter((l) => l.includes(run.runId)).length : 0;
        assert.equal(notes, 1, `one note to the owners\n${context()}`);
      }
    } catch (error) {
      record(`${row.kind}: ${row.name}`, FAULTS[fault], `FAIL (${evidence}: ${(error as Error).message.split('\n')[0]})`);
      throw error;
    }
    const result = `ok (${evidence}, recovered in ${recovered} s)`;
    record(`${row.kind}: ${row.name}`, FAULTS[fault], result);
    return result;
  } catch (error) {
    const row0 = `${row.kind}: ${row.name}`;
    if (!table.get(row0)?.has(FAULTS[fault])) record(row0, FAULTS[fault], `FAIL (${(error as Error).message.split('\n')[0]})`);
    throw error;
  } finally {
    approval?.stop();
    await lab.close();
  }
}

const concurrency = Math.max(1, Number(process.env.CHAOS_CONCURRENCY ?? 6));

describe('crash matrix: a SIGKILL at every stage', { concurrency }, () => {
  for (const row of [...DEPLOY_ROWS, ...LZ_ROWS]) {
    for (const fault of ['worker', 'temporal'] as const) {
      const expected = row.expected === 'succeeded' ? 'succeeds' : 'is rolled back';
      it(`${row.kind} at ${row.name}, ${FAULTS[fault]}: the run ${expected} with one change and no duplicate commit`, { timeout: 300_000 }, async (t) => {
        t.diagnostic(await runCell(row, fault));
      });
    }
  }
  // ServiceNow slower than the worker waits for it: runs alongside the cells.
  const CASE = 'slow ServiceNow: first 4 requests answer after 2.5 s, timeout 1 s (staging deploy)';
  it('when ServiceNow answers after the request timeout, then the run retries and still ends with one change', { timeout: 240_000 }, async (t) => {
    const lab = await Lab.open({ workerEnv: { SERVICENOW_TIMEOUT_MS: '1000' } });
    let approval: ReturnType<typeof approver> | undefined;
    try {
      // Every kind of request (create, read, update) while the first four are slow: each lands late, after its caller gave up.
      lab.proxy.hold(() => true, { delayMs: 2_500, count: 4 });
      lab.startWorker();
      const id = 'slow-servicenow';
      const image = `registry.example.com/payments/${id}:1.0.0@${uniqueDigest()}`;
      const started = await lab.platform.http('POST', '/v1/deployments', deploymentBody({ service: id, environment: 'staging', image, scanReport: trivyReport(image) }));
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const run: Run = { workflowId: started.body.deploymentId, runId: started.body.runId };
      approval = approver(lab, run);
      await until(`${run.workflowId} to end`, () => lab.closedAt(run.workflowId, run.runId), { timeoutMs: 180_000, everyMs: 250, context: () => lab.context(), errorsMeanNotYet: true });
      const view = await finalView(lab, { name: CASE, kind: 'deploy', expected: 'succeeded', reached: () => true }, run);
      const changes = await lab.changes(run.runId);
      const late = lab.proxy.seen.filter((r) => r.held && r.callerGoneAt !== undefined && r.forwardedAt !== undefined && r.callerGoneAt <= r.forwardedAt);
      const evidence = `${view.status}, ${changes.length} change${changes.length === 1 ? '' : 's'}, ${late.length} requests landed after their caller gave up`;
      special.set(CASE, `… (${evidence})`);
      assert.ok(late.length >= 1, `ServiceNow really was slower than the timeout\n${lab.context()}`);
      assert.equal(view.status, 'succeeded', `${evidence}\n${lab.context()}`);
      assert.equal(changes.length, 1, `exactly one change\n${lab.context()}`);
      assert.equal(changes[0]?.close_code, 'successful');
      special.set(CASE, `ok (${evidence})`);
      t.diagnostic(special.get(CASE)!);
    } catch (error) {
      if (!special.get(CASE)?.startsWith('ok')) special.set(CASE, `FAIL (${(error as Error).message.split('\n')[0]})`);
      throw error;
    } finally {
      approval?.stop();
      await lab.close();
    }
  });
});

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

describe('a burst of deploys with a worker kill in the middle', () => {
  const size = Math.max(2, Number(process.env.CHAOS_BURST ?? 100));
  const CASE = `burst: ${size} dev deploys at once, worker SIGKILLed midway`;
  it(`when ${size} dev deploys start at once and the worker is killed midway, then all of them succeed`, { timeout: Math.max(400_000, size * 2_000) }, async (t) => {
    const lab = await Lab.open();
    try {
      lab.startWorker();
      const runs = await Promise.all(
        Array.from({ length: size }, async (_, i) => {
          const service = `burst-${i}`;
          const res = await lab.platform.http('POST', '/v1/deployments', deploymentBody({ service, image: `registry.example.com/payments/${service}:1.0.0@${uniqueDigest()}` }));
          assert.equal(res.status, 202, JSON.stringify(res.body));
          return { workflowId: res.body.deploymentId as string, runId: res.body.runId as string };
        }),
      );
      const startedAt = Date.now();
      // Midway: half as many commits as runs (each run makes two: deploy and mesh).
      const countCommits = (): number => lab.repo.commits().filter((c) => c.body.includes('Platform-Run: ')).length;
      await until('the burst to be midway', () => countCommits() >= size, { timeoutMs: Math.max(300_000, size * 1_500), everyMs: 500, context: () => lab.context(), errorsMeanNotYet: true });
      const commitsAtKill = countCommits();
      const killedAt = Date.now();
      await lab.killWorker();
      lab.startWorker();

      // Every run's end, read from the server (describe): runs still open at the deadline are reported, not waited for.
      const deadline = Date.now() + Math.max(240_000, size * 1_500);
      let open = runs;
      while (open.length > 0 && Date.now() < deadline) {
        const closed = await pool(open, 20, (run) => lab.closedAt(run.workflowId, run.runId).catch(() => undefined));
        open = open.filter((_, i) => closed[i] === undefined);
        if (open.length > 0) await sleep(2_000);
      }
      const allDone = open.length === 0 ? `all ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill` : `${open.length} still open ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`;
      const views = await pool(runs, 20, async (run) => (await lab.platform.deployments.snapshot(run.workflowId, run.runId))?.view);
      const changeCounts = await pool(runs, 20, async (run) => (await lab.changes(run.runId)).length);
      const commitsByRun = new Map<string, string[]>();
      for (const commit of lab.repo.commits()) {
        const runId = /^Platform-Run: (.+)$/m.exec(commit.body)?.[1]?.trim();
        const key = /^Platform-(?:Idempotency|Reverts)-Key: (.+)$/m.exec(commit.body)?.[1]?.trim();
        if (runId) commitsByRun.set(runId, [...(commitsByRun.get(runId) ?? []), key ?? commit.subject]);
      }

      const byStatus = new Map<string, number>();
      for (const view of views) byStatus.set(view?.status ?? 'unknown', (byStatus.get(view?.status ?? 'unknown') ?? 0) + 1);
      const failures = views
        .map((view, i) => ({ view, run: runs[i]! }))
        .filter(({ view }) => view?.status !== 'succeeded')
        .map(({ view, run }) => `${run.workflowId}: ${view?.status} at ${view?.stage} ${view?.error ? `${view.error.type}: ${view.error.message}` : ''} steps ${JSON.stringify(view?.steps.map((s) => [s.name, s.status, s.detail?.slice(0, 160)]))}`);
      const errorTypes = new Map<string, number>();
      for (const view of views) if (view?.error) errorTypes.set(view.error.type, (errorTypes.get(view.error.type) ?? 0) + 1);
      const wrongChanges = changeCounts.filter((n) => n !== 1).length;
      const wrongCommits = runs.filter((run) => {
        const keys = commitsByRun.get(run.runId) ?? [];
        return new Set(keys).size !== keys.length || (views[runs.indexOf(run)]?.status === 'succeeded' && keys.length !== 2);
      }).length;
      const statuses = [...byStatus.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
      const errors = [...errorTypes.entries()].map(([s, n]) => `${n}× ${s}`).join(', ');
      const evidence =
        `${statuses}${errors ? ` (${errors})` : ''}, ${changeCounts.reduce((a, b) => a + b, 0)} changes, ${[...commitsByRun.values()].flat().length} commits; ` +
        `killed at ${commitsAtKill} commits ${((killedAt - startedAt) / 1000).toFixed(1)} s in, ${allDone}`;
      special.set(CASE, `${failures.length === 0 && wrongChanges === 0 && wrongCommits === 0 ? 'ok' : 'FAIL'} (${evidence})`);
      const detail = `${evidence}\n${failures.slice(0, 10).join('\n')}\n${lab.context()}`;
      assert.deepEqual(failures, [], `every run of the burst succeeds: ${detail}`);
      assert.equal(wrongChanges, 0, `one change per run: ${detail}`);
      assert.equal(wrongCommits, 0, `two commits per run, none twice: ${detail}`);
      t.diagnostic(special.get(CASE)!);
    } catch (error) {
      if (!special.has(CASE)) special.set(CASE, `FAIL (${(error as Error).message.split('\n')[0]})`);
      throw error;
    } finally {
      await lab.close();
    }
  });
});
