/**
 * Exactly one change per run, at the adapter: the create request is delayed through a proxy past
 * the adapter's timeout, so it reaches ServiceNow after the caller gave up, and open() is called
 * again as Temporal's retry would. Whatever lands first, ServiceNow ends up with one change for the
 * correlation id and every open() that returns, returns that change. Changes are counted in the
 * simulator's own store, never through the adapter under test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { changeSysIdFor, createServiceNowChangeManagement, ServiceNowUnavailableError } from '../../activities/adapters/servicenow';
import type { ChangeManagement } from '../../activities/ports/change-management';
import { startServiceNowSimulator, type RunningServiceNowSimulator } from '../../simulators/servicenow/server';
import { startDelayProxy, type DelayProxy, type RequestLine, type SeenRequest } from '../support/delay-proxy';
import { tempDir } from './helpers';

const credentials = { user: 'platform.integration', password: `pw-${randomBytes(12).toString('hex')}` };
const webhook = { url: 'http://127.0.0.1:9/unused', secret: 'one-change-test-secret' };
const TIMEOUT_MS = 300;

const isCreate = (r: RequestLine): boolean => r.method === 'POST' && r.url.startsWith('/api/now/table/change_request');
const openRequest = (correlationId: string) => ({ correlationId, shortDescription: 'Deploy ledger', description: 'd', type: 'normal', requestedBy: 'ci' }) as const;

describe('ServiceNow adapter: one change per correlation id when the create is slow or lost', () => {
  const temp = tempDir('sn-one-change');
  let simulator: RunningServiceNowSimulator;
  let proxy: DelayProxy;
  let adapter: ChangeManagement;

  const changesFor = (correlationId: string) => simulator.store.list().filter((c) => c.correlation_id === correlationId);
  /** Runs open() and returns the error it rejected with; fails when it resolves. */
  const openFails = (correlationId: string): Promise<unknown> =>
    adapter.open(openRequest(correlationId)).then(
      (change) => assert.fail(`expected the first open() to time out, it returned ${change.number}`),
      (error: unknown) => error,
    );
  const log = (): string => `proxy log:\n${proxy.describe()}`;

  before(async () => {
    simulator = await startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'changes.json'), credentials, webhook });
  });
  after(async () => {
    await simulator.close();
    temp.remove();
  });
  // A proxy per test: its hold rules and log belong to that test alone.
  beforeEach(async () => {
    proxy = await startDelayProxy({ target: simulator.url });
    adapter = createServiceNowChangeManagement({ baseUrl: proxy.url, ...credentials, timeoutMs: TIMEOUT_MS });
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('the sys_id a change is created under is derived from the correlation id: stable, 32 hex, distinct per run', () => {
    const id = 'deploy.payments.ledger.staging.run-1';
    assert.match(changeSysIdFor(id), /^[0-9a-f]{32}$/);
    assert.equal(changeSysIdFor(id), changeSysIdFor(id));
    // Pinned: were the derivation to change in an upgrade, a retry of a run opened before it would
    // look for (and create) its change under another sys_id, making a twin.
    assert.equal(changeSysIdFor(id), '0f219b15c41a719483e6c9f0dc749626');
    assert.notEqual(changeSysIdFor(id), changeSysIdFor(`${id}2`));
  });

  it('when the create is slower than the timeout and the retry creates the change first, then the late create is refused and one change exists', async () => {
    const correlationId = `slow-create-${randomBytes(4).toString('hex')}`;
    proxy.hold(isCreate, { delayMs: 1_500 });

    const error = await openFails(correlationId);
    assert.ok(error instanceof ServiceNowUnavailableError, `a retryable ServiceNowUnavailableError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`did not answer within ${TIMEOUT_MS} ms`));
    const [late] = proxy.seen.filter((r) => r.held);
    assert.ok(late, log());
    assert.equal(late.forwardedAt, undefined, `the first create is still in transit when the retry starts\n${log()}`);

    // Temporal's retry: the held create has not landed, so this one creates the change.
    const retried = await adapter.open(openRequest(correlationId));
    assert.equal(retried.sysId, changeSysIdFor(correlationId));
    assert.equal(changesFor(correlationId).length, 1);

    // Now the stale create lands, after its caller has long given up.
    await proxy.whenSettled();
    assert.ok(late.callerGoneAt !== undefined && late.forwardedAt !== undefined && late.callerGoneAt < late.forwardedAt, `the caller had given up before the create was sent on\n${log()}`);
    assert.equal(late.status, 403, `ServiceNow refuses the second insert of the sys_id\n${log()}`);

    const stored = changesFor(correlationId);
    assert.equal(stored.length, 1, `exactly one change for the correlation id, found ${stored.map((c) => c.number).join(', ')}\n${log()}`);
    assert.equal(stored[0]?.sys_id, retried.sysId);
    assert.equal(stored[0]?.number, retried.number);
    assert.deepEqual(creates().map((r) => r.status), [403, 201], log());
  });

  it('when the create lands but its answer is lost, then the retry finds the change by its sys_id and creates nothing', async () => {
    const correlationId = `lost-answer-${randomBytes(4).toString('hex')}`;
    // Longer than the timeout: the create reaches ServiceNow after the caller stopped listening.
    proxy.hold(isCreate, { delayMs: TIMEOUT_MS + 300 });

    const error = await openFails(correlationId);
    assert.ok(error instanceof ServiceNowUnavailableError, `a retryable ServiceNowUnavailableError, got ${String(error)}`);
    const [landed] = await proxy.whenSettled();
    assert.ok(landed, log());
    assert.equal(landed.status, 201, `the create landed\n${log()}`);
    assert.ok(landed.callerGoneAt !== undefined && landed.answeredAt !== undefined && landed.callerGoneAt < landed.answeredAt, `nobody was left to read the answer\n${log()}`);
    assert.equal(changesFor(correlationId).length, 1);

    const before = proxy.seen.length;
    const retried = await adapter.open(openRequest(correlationId));
    const retryRequests = proxy.seen.slice(before);
    assert.deepEqual(
      retryRequests.map((r) => r.method),
      ['GET'],
      `the retry only read the change by its sys_id\n${log()}`,
    );
    assert.ok(retryRequests[0]?.url.includes(`sys_id%3D${retried.sysId}`) || retryRequests[0]?.url.includes(`sys_id=${retried.sysId}`), log());

    const stored = changesFor(correlationId);
    assert.equal(stored.length, 1, log());
    assert.equal(stored[0]?.sys_id, changeSysIdFor(correlationId));
    assert.equal(retried.number, stored[0]?.number);
  });

  it('when the late create lands between the retry\'s look-up and its own create, then the retry is refused and returns the change that landed', async () => {
    const correlationId = `landed-meanwhile-${randomBytes(4).toString('hex')}`;
    // Every create is held until released, so the test orders the two creates by hand, not by timers.
    proxy.hold(isCreate, { count: 2 });
    const error = await openFails(correlationId);
    assert.ok(error instanceof ServiceNowUnavailableError, `a retryable ServiceNowUnavailableError, got ${String(error)}`);

    // The retry runs on an adapter that waits longer (another worker, say), so its own create can
    // stay held while the first one lands.
    const patient = createServiceNowChangeManagement({ baseUrl: proxy.url, ...credentials, timeoutMs: 10_000 });
    const retrying = patient.open(openRequest(correlationId));
    const stale = await proxy.whenHeld(1);
    const retry = await proxy.whenHeld(2);
    assert.equal(changesFor(correlationId).length, 0, 'the retry looked up the change before anything had landed');
    proxy.release((r) => r === stale);
    await proxy.whenSettled((r) => r === stale);
    assert.equal(stale.status, 201, `the stale create landed first\n${log()}`);
    proxy.release((r) => r === retry);
    const retried = await retrying;
    assert.equal(retry.status, 403, `the retry's create was refused\n${log()}`);
    // After the refusal the retry read the change by its sys_id, and made nothing.
    assert.deepEqual(proxy.seen.slice(proxy.seen.indexOf(retry) + 1).map((r) => r.method), ['GET'], log());

    const stored = changesFor(correlationId);
    assert.equal(stored.length, 1, log());
    assert.equal(retried.sysId, stored[0]?.sys_id);
    assert.equal(retried.number, stored[0]?.number);
  });

  function creates(): SeenRequest[] {
    return proxy.seen.filter(isCreate);
  }
});
