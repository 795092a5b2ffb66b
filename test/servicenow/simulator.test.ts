/**
 * The ServiceNow simulator as a developer and the platform meet it: the Table API's refusals, the
 * approver's buttons and the signed webhook they send, and records that outlive a restart.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { startServiceNowSimulator, type RunningServiceNowSimulator } from '../../simulators/servicenow/server';
import { json, startStub, tempDir, unusedPort, type RecordedRequest, type StubServer } from './helpers';

const credentials = { user: 'platform.integration', password: 'sim-test-password-0123456789' };
const secret = 'sim-test-webhook-secret';
const auth = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
const TABLE = '/api/now/table/change_request';

interface Reply {
  status: number;
  // Parsed JSON of arbitrary shape: each test asserts the fields it is about.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: auth }): Promise<Reply> {
  const init: RequestInit = { method, headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('ServiceNow simulator', () => {
  const temp = tempDir('sn-sim');
  const dataFile = join(temp.dir, 'nested', 'state', 'changes.json');
  let receiver: StubServer;
  let receiverStatus = 202;
  let simulator: RunningServiceNowSimulator;
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(simulator.url, method, path, body, headers);
  const open = async (fields: Record<string, unknown> = {}) => {
    const created = await api('POST', TABLE, { short_description: 'Deploy payments/ledger', type: 'normal', correlation_id: `corr-${Math.random()}`, ...fields });
    assert.equal(created.status, 201);
    return created.body.result;
  };
  const decide = (number: string, action: 'approve' | 'reject', body: unknown = { approver: 'jane.approver' }) => api('POST', `/sim/changes/${number}/${action}`, body, {});

  before(async () => {
    receiver = await startStub((_req, res) => json(res, receiverStatus, receiverStatus < 300 ? { accepted: true } : { detail: 'not waiting' }));
    simulator = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook: { url: `${receiver.url}/v1/webhooks/servicenow`, secret } });
  });
  after(async () => {
    await simulator.close();
    await receiver.close();
    temp.remove();
  });

  describe('Table API', () => {
    it('when no credentials are sent, then 401 with ServiceNow\'s error envelope', async () => {
      const reply = await api('GET', TABLE, undefined, {});
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.body, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
    });

    it('when the password is wrong, then 401', async () => {
      const wrong = `Basic ${Buffer.from(`${credentials.user}:nope`).toString('base64')}`;
      assert.equal((await api('POST', TABLE, { short_description: 'x' }, { authorization: wrong })).status, 401);
    });

    it('when a normal change is created, then it gets the next CHG number, a 32-hex sys_id, state -5 and approval requested', async () => {
      const first = await open({ description: 'why', requested_by: 'ci-payments', correlation_display: 'deploy-platform' });
      const second = await open();
      assert.match(first.number, /^CHG[0-9]{7}$/);
      assert.equal(Number(second.number.slice(3)), Number(first.number.slice(3)) + 1);
      assert.match(first.sys_id, /^[0-9a-f]{32}$/);
      assert.equal(first.state, '-5');
      assert.equal(first.approval, 'requested');
      assert.equal(first.requested_by, 'ci-payments');
      assert.match(first.sys_created_on, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    });

    it('when a standard change is created, then it is pre-approved and scheduled', async () => {
      const change = await open({ type: 'standard' });
      assert.equal(change.approval, 'approved');
      assert.equal(change.state, '-2');
    });

    it('when a client tries to set approval on create, then the simulator decides anyway', async () => {
      const change = await open({ approval: 'approved', state: '-1' });
      assert.equal(change.approval, 'requested');
      assert.equal(change.state, '-5');
    });

    it('when the body is not JSON, then 400 with the envelope', async () => {
      const reply = await api('POST', TABLE, '{"short_description": ', { authorization: auth });
      assert.equal(reply.status, 400);
      assert.equal(reply.body.status, 'failure');
      assert.match(reply.body.error.detail, /not valid JSON/);
    });

    it('when short_description is missing, then 400 naming it', async () => {
      const reply = await api('POST', TABLE, { description: 'no title' });
      assert.equal(reply.status, 400);
      assert.match(reply.body.error.detail, /short_description/);
    });

    it('when listing with field=value terms joined by ^ and a limit, then only matching records come back', async () => {
      const correlation = `corr-query-${Date.now()}`;
      await open({ correlation_id: correlation, type: 'normal' });
      await open({ correlation_id: correlation, type: 'standard' });
      const both = await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent(`correlation_id=${correlation}`)}`);
      assert.equal(both.body.result.length, 2);
      const standard = await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent(`correlation_id=${correlation}^type=standard`)}`);
      assert.deepEqual(standard.body.result.map((c: { type: string }) => c.type), ['standard']);
      const limited = await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent(`correlation_id=${correlation}`)}&sysparm_limit=1`);
      assert.equal(limited.body.result.length, 1);
      const none = await api('GET', `${TABLE}?sysparm_query=correlation_id=nothing-like-this`);
      assert.deepEqual(none.body, { result: [] });
    });

    it('when the query uses an operator or field the simulator does not know, then 400 instead of matching everything', async () => {
      assert.equal((await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent('numberSTARTSWITHCHG')}`)).status, 400);
      assert.equal((await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent('no_such_field=1')}`)).status, 400);
      assert.equal((await api('GET', `${TABLE}?sysparm_limit=zero`)).status, 400);
    });

    it('when a change is read or patched by an unknown sys_id, then 404', async () => {
      const unknown = `${TABLE}/${'f'.repeat(32)}`;
      const read = await api('GET', unknown);
      assert.equal(read.status, 404);
      assert.equal(read.body.error.message, 'No Record found');
      assert.equal((await api('PATCH', unknown, { state: '3' })).status, 404);
    });

    it('when a change is patched closed, then state, close_code and close_notes are stored and approval is left alone', async () => {
      const change = await open();
      const patched = await api('PATCH', `${TABLE}/${change.sys_id}`, { state: '3', close_code: 'successful', close_notes: 'done', approval: 'approved' });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.result.state, '3');
      assert.equal(patched.body.result.close_code, 'successful');
      assert.equal(patched.body.result.close_notes, 'done');
      assert.equal(patched.body.result.approval, 'requested');
      assert.deepEqual((await api('GET', `${TABLE}/${change.sys_id}`)).body.result, patched.body.result);
    });

    it('when a patch carries an unknown state code, then 400', async () => {
      const change = await open();
      assert.equal((await api('PATCH', `${TABLE}/${change.sys_id}`, { state: 'closed' })).status, 400);
    });
  });

  describe('approvals and the webhook', () => {
    const lastWebhook = (): RecordedRequest => {
      const last = receiver.requests.at(-1);
      assert.ok(last, 'a webhook was sent');
      return last;
    };
    const header = (req: RecordedRequest, name: string): string | undefined => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    };

    it('when an approver approves, then the change is approved and scheduled and a correctly signed webhook reaches the platform', async () => {
      receiverStatus = 202;
      const change = await open({ correlation_id: 'deploy.payments.ledger.staging.run-1' });
      const reply = await decide(change.number, 'approve', { approver: 'jane.approver', comment: 'looks good' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.change.approval, 'approved');
      assert.equal(reply.body.change.state, '-2');
      assert.equal(reply.body.change.u_approved_by, 'jane.approver');
      assert.equal(reply.body.change.comments, 'looks good');
      assert.deepEqual(reply.body.webhook, { status: 202 });

      const sent = lastWebhook();
      assert.equal(sent.method, 'POST');
      assert.equal(sent.url, '/v1/webhooks/servicenow');
      assert.equal(header(sent, 'content-type'), 'application/json');
      const verdict = verifyWebhookSignature({
        secret,
        rawBody: sent.body,
        timestampHeader: header(sent, TIMESTAMP_HEADER),
        signatureHeader: header(sent, SIGNATURE_HEADER),
        nowSec: Math.floor(Date.now() / 1000),
      });
      assert.deepEqual(verdict, { ok: true });
      const body = JSON.parse(sent.body.toString('utf8'));
      assert.match(body.event_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(body, {
        number: change.number,
        sys_id: change.sys_id,
        correlation_id: 'deploy.payments.ledger.staging.run-1',
        approval: 'approved',
        approver: 'jane.approver',
        comment: 'looks good',
        event_id: body.event_id,
      });
      assert.equal(simulator.store.byNumber(change.number)?.approval, 'approved');
    });

    it('when the signed webhook is checked with another secret, then it does not verify', async () => {
      const sent = lastWebhook();
      const verdict = verifyWebhookSignature({ secret: 'not-the-secret', rawBody: sent.body, timestampHeader: header(sent, TIMESTAMP_HEADER), signatureHeader: header(sent, SIGNATURE_HEADER), nowSec: Math.floor(Date.now() / 1000) });
      assert.equal(verdict.ok, false);
    });

    it('when an approver rejects without a comment, then the change is cancelled and the webhook says rejected with no comment field', async () => {
      const change = await open();
      const reply = await decide(change.number, 'reject', { approver: 'bob.cab' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.change.approval, 'rejected');
      assert.equal(reply.body.change.state, '4');
      const body = JSON.parse(lastWebhook().body.toString('utf8'));
      assert.equal(body.approval, 'rejected');
      assert.equal(body.approver, 'bob.cab');
      assert.equal('comment' in body, false);
    });

    it('when a change is decided a second time, then 409 and no second webhook', async () => {
      const change = await open();
      assert.equal((await decide(change.number, 'approve')).status, 200);
      const sent = receiver.requests.length;
      const again = await decide(change.number, 'approve');
      assert.equal(again.status, 409);
      assert.match(again.body.error.detail, /approval "approved"/);
      assert.equal((await decide(change.number, 'reject')).status, 409);
      assert.equal(receiver.requests.length, sent);
    });

    it('when a standard (pre-approved) change is approved, then 409', async () => {
      const change = await open({ type: 'standard' });
      assert.equal((await decide(change.number, 'approve')).status, 409);
    });

    it('when the change was cancelled while awaiting approval, then a late decision is 409', async () => {
      const change = await open();
      await api('PATCH', `${TABLE}/${change.sys_id}`, { state: '4', close_notes: 'expired' });
      assert.equal((await decide(change.number, 'approve')).status, 409);
    });

    it('when the change number is unknown, then 404', async () => {
      assert.equal((await decide('CHG9999999', 'approve')).status, 404);
    });

    it('when the approver is missing or the body is not JSON, then 400', async () => {
      const change = await open();
      assert.equal((await decide(change.number, 'approve', { comment: 'who am I' })).status, 400);
      assert.equal((await decide(change.number, 'approve', '{oops')).status, 400);
      assert.equal(simulator.store.byNumber(change.number)?.approval, 'requested');
    });

    it('when the platform refuses the webhook, then the decision is kept and the refusal is reported', async () => {
      receiverStatus = 409;
      try {
        const change = await open();
        const reply = await decide(change.number, 'approve');
        assert.equal(reply.status, 200);
        assert.equal(reply.body.change.approval, 'approved');
        assert.equal(reply.body.webhook.status, 409);
        assert.match(reply.body.webhook.error, /HTTP 409/);
        assert.equal(simulator.store.byNumber(change.number)?.approval, 'approved');
      } finally {
        receiverStatus = 202;
      }
    });

    it('when the platform is unreachable, then the decision is kept and the webhook status is null with the error', async () => {
      const temp2 = tempDir('sn-sim-nowebhook');
      const lonely = await startServiceNowSimulator({ port: 0, dataFile: join(temp2.dir, 'c.json'), credentials, webhook: { url: `http://127.0.0.1:${await unusedPort()}/hook`, secret } });
      try {
        const created = await call(lonely.url, 'POST', TABLE, { short_description: 'Deploy' });
        const reply = await call(lonely.url, 'POST', `/sim/changes/${created.body.result.number}/approve`, { approver: 'jane' }, {});
        assert.equal(reply.status, 200);
        assert.equal(reply.body.webhook.status, null);
        assert.match(reply.body.webhook.error, /failed/);
        assert.equal(lonely.store.byNumber(created.body.result.number)?.approval, 'approved');
      } finally {
        await lonely.close();
        temp2.remove();
      }
    });
  });

  describe('for people', () => {
    it('when /sim/health is called, then 200 without credentials', async () => {
      assert.equal((await api('GET', '/sim/health', undefined, {})).status, 200);
    });

    it('when /sim/changes is called, then every record is listed', async () => {
      const reply = await api('GET', '/sim/changes', undefined, {});
      assert.equal(reply.status, 200);
      assert.equal(reply.body.result.length, simulator.store.list().length);
    });
  });
});

describe('ServiceNow simulator persistence', () => {
  const temp = tempDir('sn-sim-persist');
  const dataFile = join(temp.dir, 'missing', 'dir', 'servicenow.json');
  const webhook = { url: 'http://127.0.0.1:9/unused', secret };
  after(() => temp.remove());

  it('when the simulator restarts on the same data file, then records and the number sequence survive', async () => {
    const first = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook });
    let created: Reply;
    try {
      assert.ok(existsSync(dataFile), 'the data file and its directory are created at start');
      created = await call(first.url, 'POST', TABLE, { short_description: 'Deploy', correlation_id: 'survivor' });
      await call(first.url, 'POST', `/sim/changes/${created.body.result.number}/reject`, { approver: 'bob' }, {});
    } finally {
      await first.close();
    }
    assert.deepEqual(readdirSync(join(temp.dir, 'missing', 'dir')), ['servicenow.json'], 'no temp files are left behind');
    assert.equal(JSON.parse(readFileSync(dataFile, 'utf8')).records.length, 1);

    const second = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook, firstNumber: 1 });
    try {
      const found = await call(second.url, 'GET', `${TABLE}?sysparm_query=correlation_id=survivor`);
      assert.equal(found.body.result.length, 1);
      assert.equal(found.body.result[0].sys_id, created.body.result.sys_id);
      assert.equal(found.body.result[0].approval, 'rejected');
      const next = await call(second.url, 'POST', TABLE, { short_description: 'Deploy again' });
      assert.equal(Number(next.body.result.number.slice(3)), Number(created.body.result.number.slice(3)) + 1);
    } finally {
      await second.close();
    }
  });

  it('when firstNumber is given for a new data file, then numbering starts there', async () => {
    const sim = await startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'fresh.json'), credentials, webhook, firstNumber: 1_234_567 });
    try {
      const created = await call(sim.url, 'POST', TABLE, { short_description: 'Deploy' });
      assert.equal(created.body.result.number, 'CHG1234567');
    } finally {
      await sim.close();
    }
  });
});
