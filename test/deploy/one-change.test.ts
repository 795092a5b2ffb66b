/**
 * Exactly one change per run, end to end on a real Temporal server: the worker reaches the
 * ServiceNow simulator through a delaying proxy, so the change's create request can be held in
 * transit while the openChange activity times out and is retried, or while the worker that sent it
 * is killed and another one retries. The stale create lands afterwards and must be refused.
 * Changes are counted through the simulator's own Table API, not through the proxy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { changeSysIdFor } from '../../activities/adapters/servicenow';
import { trivyReport } from '../helpers/fixtures';
import { workerProcesses } from '../helpers/worker-processes';
import { deploymentBody, startTestPlatform, uniqueDigest, type SimulatedChange, type TestPlatform, type TestPlatformOptions } from '../helpers/platform';
import { startDelayProxy, type DelayProxy, type RequestLine } from '../support/delay-proxy';
import { until } from '../helpers/until';

const isCreate = (r: RequestLine): boolean => r.method === 'POST' && r.url.startsWith('/api/now/table/change_request');

/** The Table API's change carries its sys_id; the platform helper's type leaves it out. */
type StoredChange = SimulatedChange & { sys_id?: string };

/**
 * A platform whose worker(s) reach ServiceNow only through a delaying proxy. The proxy must exist
 * before the platform (its URL goes into the worker's SERVICENOW_URL), while the simulator's port
 * is chosen inside startTestPlatform: so the proxy reads its target once the platform is up.
 */
async function proxiedPlatform(options: TestPlatformOptions & { timeoutMs: number }): Promise<{ platform: TestPlatform; proxy: DelayProxy }> {
  let simulatorUrl: string | undefined;
  const proxy = await startDelayProxy({
    target: () => {
      if (!simulatorUrl) throw new Error('the simulator is not started yet');
      return simulatorUrl;
    },
  });
  try {
    const { timeoutMs, ...rest } = options;
    const platform = await startTestPlatform({ ...rest, env: { ...rest.env, SERVICENOW_URL: proxy.url, SERVICENOW_TIMEOUT_MS: String(timeoutMs) } });
    simulatorUrl = platform.simulatorUrl;
    return { platform, proxy };
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

/** `promise`, or a failure naming what did not happen (with the context) after timeoutMs. */
async function within<T>(what: string, promise: Promise<T>, context: () => string, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${context()}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function startStagingRun(platform: TestPlatform, service: string): Promise<{ deploymentId: string; runId: string }> {
  const image = `registry.example.com/payments/${service}:1.0.0@${uniqueDigest()}`;
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service, environment: 'staging', image, scanReport: trivyReport(image) }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return started.body as { deploymentId: string; runId: string };
}

/** Approves in the simulator (the webhook tells the run), waits for success, returns the run's changes. */
async function approveAndFinish(platform: TestPlatform, deploymentId: string, runId: string, context: () => string): Promise<StoredChange[]> {
  const waiting = await platform.waitForStatus(deploymentId, 'awaiting_approval', 60_000);
  assert.ok(waiting.change, 'the waiting run names its change');
  const approved = await platform.simulator('approve', waiting.change.number, 'ops.olga');
  assert.equal(approved.body.webhook.status, 202, JSON.stringify(approved.body.webhook));
  try {
    await platform.waitForStatus(deploymentId, 'succeeded', 60_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${context()}`);
  }
  const changes: StoredChange[] = await platform.changesOfRun(runId);
  assert.equal(changes[0]?.number, waiting.change.number, context());
  return changes;
}

function assertOneClosedChange(changes: StoredChange[], runId: string, context: string): void {
  assert.equal(changes.length, 1, `exactly one change for the run, found ${changes.map((c) => c.number).join(', ')}\n${context}`);
  const [change] = changes;
  assert.equal(change?.sys_id, changeSysIdFor(runId), 'created under the sys_id derived from the run');
  assert.equal(change?.state, '3', 'closed');
  assert.equal(change?.close_code, 'successful');
}

describe('a create request delayed past the timeout (in-process worker)', () => {
  let platform: TestPlatform;
  let proxy: DelayProxy;

  before(async () => {
    // 500 ms: the held create (3 s) times out, fails the activity attempt, and Temporal retries it.
    ({ platform, proxy } = await proxiedPlatform({ timeoutMs: 500 }));
  });
  after(async () => {
    await platform?.stop();
    await proxy?.close();
  });

  it('when the first create lands after the retry created the change, then it is refused and the run has one change', { timeout: 120_000 }, async (t) => {
    proxy.hold(isCreate, { delayMs: 3_000 });
    const { deploymentId, runId } = await startStagingRun(platform, 'late-create');
    const log = (): string => `proxy log:\n${proxy.describe()}`;

    await platform.waitForStatus(deploymentId, 'awaiting_approval', 60_000);
    const [late] = await proxy.whenSettled();
    assert.ok(late, `the first create was held\n${log()}`);
    assert.ok(late.callerGoneAt !== undefined && late.forwardedAt !== undefined && late.callerGoneAt < late.forwardedAt, `the activity had given up before the create was sent on\n${log()}`);
    assert.equal(late.status, 403, `ServiceNow refused the stale create\n${log()}`);
    // Arrival order: the held create, then the retry's, which created the change.
    assert.deepEqual(proxy.seen.filter(isCreate).map((r) => r.status), [403, 201], log());
    assert.equal((await platform.changesOfRun(runId)).length, 1, log());

    assertOneClosedChange(await approveAndFinish(platform, deploymentId, runId, log), runId, log());
    // The sequence in the report: the evidence of what happened, not only that it passed.
    t.diagnostic(log());
  });
});

describe('a worker killed while its create request is in transit (worker processes)', () => {
  let platform: TestPlatform;
  let proxy: DelayProxy;
  const workers = workerProcesses(() => platform.env);

  before(async () => {
    // 5 s, not 500 ms: the killed worker must die with the request still open, not after its own
    // timeout (which would make this the in-process case again with an extra restart).
    ({ platform, proxy } = await proxiedPlatform({ startWorker: false, timeoutMs: 5_000 }));
  });
  after(async () => {
    await workers.killAll();
    await platform?.stop();
    await proxy?.close();
  });

  it('when the stale create lands after a new worker created the change, then it is refused and the run has one change', { timeout: 120_000 }, async (t) => {
    const context = (): string => `proxy log:\n${proxy.describe()}\nworkers:\n${workers.tail(40)}`;
    // Held until released: the create stays in transit for as long as the test wants.
    proxy.hold(isCreate);
    const { deploymentId, runId } = await startStagingRun(platform, 'in-transit');

    // 1. The first worker sends the create; it is in transit when the worker dies.
    const first = workers.start('worker-1');
    const inTransit = await within('the create to reach the proxy', proxy.whenHeld(), context);
    const killedAt = Date.now();
    await workers.kill(first);
    await until('the dead worker\'s connection to close', () => inTransit.callerGoneAt !== undefined, { context, timeoutMs: 5_000 });
    assert.ok(inTransit.callerGoneAt !== undefined && inTransit.callerGoneAt >= killedAt, `the create's caller vanished with the process, not by its own timeout\n${context()}`);
    assert.equal(inTransit.forwardedAt, undefined, context());
    assert.equal((await platform.changesOfRun(runId)).length, 0, 'nothing has reached ServiceNow yet');

    // 2. A new worker retries openChange (after the 10 s heartbeat timeout) and creates the change.
    workers.start('worker-2');
    const created = await until('the retry to create the change', async () => {
      const changes = await platform.changesOfRun(runId);
      return changes.length > 0 ? changes : undefined;
    }, { context, everyMs: 200 });
    assert.equal(created.length, 1, context());
    assert.deepEqual(proxy.seen.filter((r) => isCreate(r) && !r.held).map((r) => r.status), [201], `the retry's create made the change\n${context()}`);

    // 3. The stale create, sent by a process that no longer exists, finally lands.
    proxy.release();
    const [stale] = await proxy.whenSettled();
    assert.equal(stale?.status, 403, `ServiceNow refused the stale create\n${context()}`);
    assert.equal((await platform.changesOfRun(runId)).length, 1, context());

    // 4. The run goes on with the one change.
    assertOneClosedChange(await approveAndFinish(platform, deploymentId, runId, context), runId, context());
    t.diagnostic(`worker-1 killed at +${killedAt - proxy.startedAt}ms\nproxy log:\n${proxy.describe()}`);
  });
});
