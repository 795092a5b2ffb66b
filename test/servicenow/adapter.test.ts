/**
 * The real ServiceNow adapter over HTTP: the port contract against the simulator, then how each
 * kind of failure reaches Temporal (refused and final, or retryable).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { changeSysIdFor, createServiceNowChangeManagement, type ServiceNowConfig } from '../../activities/adapters/servicenow';
import { ErrorType } from '../../shared/errors';
import { startServiceNowSimulator, type RunningServiceNowSimulator } from '../../simulators/servicenow/server';
import { changeManagementContract } from './change-management-contract';
import { json, startStub, tempDir, unusedPort, type StubServer } from './helpers';

const credentials = { user: 'platform.integration', password: `pw-${randomBytes(12).toString('hex')}` };
const webhook = { url: 'http://127.0.0.1:9/unused', secret: 'adapter-test-secret' };

changeManagementContract('ServiceNow adapter against the simulator', async () => {
  const temp = tempDir('sn-contract');
  const simulator = await startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'changes.json'), credentials, webhook });
  return {
    port: createServiceNowChangeManagement({ baseUrl: simulator.url, ...credentials }),
    countByCorrelationId: async (id) => simulator.store.list().filter((c) => c.correlation_id === id).length,
    teardown: async () => {
      await simulator.close();
      temp.remove();
    },
  };
});

/** Asserts the call failed with a non-retryable ChangeRequestRefused and returns its message. */
async function refused(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  assert.equal(error.type, ErrorType.ChangeRequestRefused);
  assert.equal(error.nonRetryable, true);
  assert.ok(!error.message.includes(credentials.password), 'the password never appears in a message');
  return error.message;
}

/** Asserts the call failed with something Temporal retries (a plain Error) and returns its message. */
async function retryable(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof Error);
  assert.ok(!(error instanceof ApplicationFailure), `expected a plain Error, got ${error.name}: ${error.message}`);
  assert.ok(!error.message.includes(credentials.password), 'the password never appears in a message');
  return error.message;
}

const openRequest = { correlationId: 'deploy.x.y.z.1', shortDescription: 'Deploy', description: 'd', type: 'normal', requestedBy: 'ci' } as const;

describe('ServiceNow adapter against the simulator', () => {
  const temp = tempDir('sn-adapter');
  const logs: string[] = [];
  let simulator: RunningServiceNowSimulator;
  let config: ServiceNowConfig;

  before(async () => {
    simulator = await startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'changes.json'), credentials, webhook, log: (m) => logs.push(m) });
    config = { baseUrl: simulator.url, ...credentials };
  });
  after(async () => {
    await simulator.close();
    temp.remove();
  });

  it('when a change is opened, then ServiceNow holds what the platform sent and no approval we chose', async () => {
    const adapter = createServiceNowChangeManagement({ ...config, assignmentGroup: 'Platform CAB' });
    const opened = await adapter.open({ ...openRequest, correlationId: 'deploy.fields.1' });
    const stored = simulator.store.bySysId(opened.sysId);
    assert.equal(stored?.short_description, 'Deploy');
    assert.equal(stored?.correlation_display, 'deploy-platform');
    assert.equal(stored?.requested_by, 'ci');
    assert.equal(stored?.assignment_group, 'Platform CAB');
    assert.equal(opened.url, `${simulator.url}/nav_to.do?uri=change_request.do?sys_id=${opened.sysId}`);
  });

  it('when a change is opened with a planned window, then ServiceNow holds it and reading the change gives it back', async () => {
    const adapter = createServiceNowChangeManagement(config);
    const window = { start: '2030-01-02T03:04:05.000Z', end: '2030-01-02T11:04:05.000Z' };
    const opened = await adapter.open({ ...openRequest, correlationId: 'deploy.window.1', window });
    assert.equal(opened.sysId, changeSysIdFor('deploy.window.1'), 'the run chose the sys_id');
    const stored = simulator.store.bySysId(opened.sysId);
    assert.equal(stored?.start_date, '2030-01-02 03:04:05');
    assert.equal(stored?.end_date, '2030-01-02 11:04:05');
    assert.deepEqual((await adapter.get(opened.sysId)).window, window);
  });

  it('when approvers decide, then their records come back with names and groups', async () => {
    const adapter = createServiceNowChangeManagement(config);
    const opened = await adapter.open({ ...openRequest, correlationId: 'deploy.approvals.1' });
    assert.deepEqual(await adapter.approvals(opened.sysId), []);
    for (const [approver, group] of [['alice', 'cab-prod'], ['carol', 'change-approvers']] as const) {
      const res = await fetch(`${simulator.url}/sim/changes/${opened.number}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ approver, group, webhook: false }),
      });
      assert.equal(res.status, 200);
    }
    const records = await adapter.approvals(opened.sysId);
    assert.deepEqual(
      records.map(({ approver, group, state }) => ({ approver, group, state })),
      [
        { approver: 'alice', group: 'cab-prod', state: 'approved' },
        { approver: 'carol', group: 'change-approvers', state: 'approved' },
      ],
    );
    assert.ok(records.every((r) => r.decidedAt && !Number.isNaN(Date.parse(r.decidedAt))));
  });

  it('when a closed change is closed again the same way, then nothing is written the second time', async () => {
    const adapter = createServiceNowChangeManagement(config);
    const opened = await adapter.open({ ...openRequest, correlationId: 'deploy.close.twice' });
    await adapter.close({ sysId: opened.sysId, outcome: 'unsuccessful', notes: 'Failed: VerificationFailed' });
    const writes = () => logs.filter((l) => l.startsWith(`updated ${opened.number}`)).length;
    assert.equal(writes(), 1);
    await adapter.close({ sysId: opened.sysId, outcome: 'unsuccessful', notes: 'Failed: VerificationFailed' });
    assert.equal(writes(), 1);
    const stored = simulator.store.bySysId(opened.sysId);
    assert.equal(stored?.close_code, 'unsuccessful');
    assert.equal(stored?.close_notes, 'Failed: VerificationFailed');
  });

  it('when a rejected change is closed cancelled, then its notes are still written', async () => {
    const adapter = createServiceNowChangeManagement(config);
    const opened = await adapter.open({ ...openRequest, correlationId: 'deploy.rejected.then.cancelled' });
    const decided = await fetch(`${simulator.url}/sim/changes/${opened.number}/reject`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ approver: 'bob' }) });
    assert.equal(decided.status, 200);
    const closed = await adapter.close({ sysId: opened.sysId, outcome: 'cancelled', notes: 'Not deployed: rejected.' });
    assert.equal(closed.state, '4');
    assert.equal(closed.approval, 'rejected');
    assert.equal(simulator.store.bySysId(opened.sysId)?.close_notes, 'Not deployed: rejected.');
  });

  it('when the password is wrong, then the call is refused for good with the 401 and ServiceNow\'s message', async () => {
    const adapter = createServiceNowChangeManagement({ ...config, password: `${credentials.password}-wrong` });
    const message = await refused(adapter.open(openRequest));
    assert.match(message, /HTTP 401/);
    assert.match(message, /User Not Authenticated/);
    assert.ok(!message.includes(`${credentials.password}-wrong`));
  });

  it('when the sys_id is unknown, then get is refused with the 404', async () => {
    const message = await refused(createServiceNowChangeManagement(config).get('0'.repeat(32)));
    assert.match(message, /HTTP 404.*No Record found/);
  });

  it('when the correlation id would change the query, then open is refused before any call', async () => {
    await refused(createServiceNowChangeManagement(config).open({ ...openRequest, correlationId: 'a^state=3' }));
  });
});

describe('ServiceNow adapter when ServiceNow is unwell', () => {
  let stub: StubServer;
  let answer: { status: number; body: unknown } | 'hang' | 'html' = { status: 200, body: { result: [] } };

  before(async () => {
    stub = await startStub((_req, res) => {
      if (answer === 'hang') return; // never answers: the adapter's timeout must fire
      if (answer === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Instance hibernating</html>');
        return;
      }
      json(res, answer.status, answer.body);
    });
  });
  after(async () => {
    await stub.close();
  });

  const adapter = () => createServiceNowChangeManagement({ baseUrl: stub.url, ...credentials, timeoutMs: 300 });

  it('when nothing listens at the URL, then the failure is retryable and says ServiceNow is unreachable', async () => {
    const down = createServiceNowChangeManagement({ baseUrl: `http://127.0.0.1:${await unusedPort()}`, ...credentials });
    assert.match(await retryable(down.open(openRequest)), /unreachable/);
  });

  it('when ServiceNow does not answer in time, then the failure is retryable and names the timeout', async () => {
    answer = 'hang';
    assert.match(await retryable(adapter().get('a'.repeat(32))), /did not answer within 300 ms/);
  });

  for (const status of [500, 503, 408, 429]) {
    it(`when ServiceNow answers ${status}, then the failure is retryable and names the status`, async () => {
      answer = { status, body: { error: { message: 'Transaction cancelled', detail: 'maximum execution time exceeded' }, status: 'failure' } };
      assert.match(await retryable(adapter().get('a'.repeat(32))), new RegExp(`HTTP ${status}.*Transaction cancelled: maximum execution time exceeded`));
    });
  }

  for (const status of [400, 403]) {
    it(`when ServiceNow answers ${status}, then the call is refused for good with ServiceNow's message`, async () => {
      answer = { status, body: { error: { message: 'Operation Failed', detail: 'ACL Exception Insert Failed due to security constraints' }, status: 'failure' } };
      assert.match(await refused(adapter().open(openRequest)), new RegExp(`HTTP ${status}.*Operation Failed: ACL Exception`));
    });
  }

  it('when ServiceNow answers 200 with a page instead of JSON, then the failure is retryable', async () => {
    answer = 'html';
    assert.match(await retryable(adapter().get('a'.repeat(32))), /not JSON/);
  });

  it('when the base URL carries credentials, then the adapter refuses its configuration', () => {
    assert.throws(
      () => createServiceNowChangeManagement({ baseUrl: `http://u:${credentials.password}@127.0.0.1`, ...credentials }),
      (e: unknown) => e instanceof ApplicationFailure && e.type === ErrorType.ConfigurationInvalid && !e.message.includes(credentials.password),
    );
  });
});
