/**
 * The ServiceNow simulator as a developer and the platform meet it: the Table API's refusals, the
 * approval records, the approvers' buttons and the signed webhook they send, and records that
 * outlive a restart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { startServiceNowSimulator, type RunningServiceNowSimulator } from '../../simulators/servicenow/server';
import { json, startStub, tempDir, unusedPort, type RecordedRequest, type StubServer } from './helpers';

const credentials = { user: 'platform.integration', password: 'sim-test-password-0123456789' };
const secret = 'sim-test-webhook-secret';
const auth = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
const TABLE = '/api/now/table/change_request';
const APPROVALS = '/api/now/table/sysapproval_approver';
/** What the platform's adapter asks for: dot-walks through the approver and group references. */
const ADAPTER_FIELDS = 'sys_id,state,approver.user_name,group.assignment_group.name,sys_updated_on';

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

  describe('the change page (the link the platform shows for a change)', () => {
    it('when a change\'s link is opened, then the page shows its fields, its approvers and how to decide it; an unknown one is 404', async () => {
      const change = await open({ description: 'Deploy <b>ledger</b>', requested_by: 'ci-payments' });
      assert.equal((await decide(change.number, 'approve', { approver: 'alice.cab', group: 'cab-prod', webhook: false })).status, 200);
      const page = await fetch(`${simulator.url}/nav_to.do?uri=change_request.do?sys_id=${change.sys_id}`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.ok(html.includes(change.number));
      assert.ok(html.includes('alice.cab') && html.includes('cab-prod'), 'the approvers are listed');
      assert.ok(html.includes('&#60;b&#62;ledger'), 'record text is escaped');
      assert.ok(html.includes(`/sim/changes/${change.number}/approve`));
      const unknown = await fetch(`${simulator.url}/nav_to.do?uri=change_request.do?sys_id=${'0'.repeat(32)}`);
      assert.equal(unknown.status, 404);
    });
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

    it('when the caller chooses a sys_id on insert, then the change gets exactly that sys_id', async () => {
      const sysId = randomBytes(16).toString('hex');
      const created = await api('POST', TABLE, { short_description: 'Deploy with my id', sys_id: sysId });
      assert.equal(created.status, 201);
      assert.equal(created.body.result.sys_id, sysId);
      assert.equal((await api('GET', `${TABLE}/${sysId}`)).body.result.number, created.body.result.number);
    });

    it('when the chosen sys_id already exists, then 403 with ServiceNow\'s insert failure and nothing is created', async () => {
      const sysId = randomBytes(16).toString('hex');
      const first = await api('POST', TABLE, { short_description: 'Deploy once', sys_id: sysId, correlation_id: `dup-${sysId}` });
      assert.equal(first.status, 201);
      const before = simulator.store.list().length;
      const again = await api('POST', TABLE, { short_description: 'Deploy once (retried)', sys_id: sysId, correlation_id: `dup-${sysId}` });
      assert.equal(again.status, 403);
      assert.deepEqual(again.body, {
        error: { message: 'Operation Failed', detail: `Error during insert of change_request (a record with sys_id ${sysId} already exists)` },
        status: 'failure',
      });
      assert.equal(simulator.store.list().length, before);
      assert.equal(simulator.store.bySysId(sysId)?.short_description, 'Deploy once');
      // The refused insert used no number: the next change is the very next one.
      const next = await open();
      assert.equal(Number(next.number.slice(3)), Number(first.body.result.number.slice(3)) + 1);
    });

    it('when the chosen sys_id is not 32 lowercase hex characters, then 400 and nothing is created', async () => {
      const before = simulator.store.list().length;
      for (const sysId of ['A'.repeat(32), 'a'.repeat(31), `${'a'.repeat(31)}g`, '', 42]) {
        const reply = await api('POST', TABLE, { short_description: 'Deploy', sys_id: sysId });
        assert.equal(reply.status, 400, `sys_id ${JSON.stringify(sysId)}`);
        assert.equal(reply.body.error.message, 'Invalid field value');
        assert.match(reply.body.error.detail, /sys_id/);
      }
      assert.equal(simulator.store.list().length, before);
    });

    it('when no planned window is given, then start_date and end_date are empty', async () => {
      const change = await open();
      assert.equal(change.start_date, '');
      assert.equal(change.end_date, '');
    });

    it('when the planned window is written on create and patch, then it is stored as glide date-time text and can be cleared', async () => {
      const change = await open({ start_date: '2030-01-02 03:04:05', end_date: '2030-01-02 05:00:00' });
      assert.equal(change.start_date, '2030-01-02 03:04:05');
      assert.equal(change.end_date, '2030-01-02 05:00:00');
      const moved = await api('PATCH', `${TABLE}/${change.sys_id}`, { end_date: '2030-01-03 00:00:00' });
      assert.equal(moved.status, 200);
      assert.equal(moved.body.result.start_date, '2030-01-02 03:04:05');
      assert.equal(moved.body.result.end_date, '2030-01-03 00:00:00');
      const put = await api('PUT', `${TABLE}/${change.sys_id}`, { start_date: '' });
      assert.equal(put.body.result.start_date, '');
      const found = await api('GET', `${TABLE}?sysparm_query=${encodeURIComponent(`end_date=2030-01-03 00:00:00^sys_id=${change.sys_id}`)}`);
      assert.deepEqual(found.body.result.map((c: { sys_id: string }) => c.sys_id), [change.sys_id]);
    });

    it('when a planned date is not YYYY-MM-DD HH:MM:SS or is impossible, then 400 naming the field', async () => {
      const change = await open();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ start_date: '2030-01-02T03:04:05Z' }, /start_date/],
        [{ start_date: '2030-01-02' }, /start_date/],
        [{ end_date: '2030-02-30 10:00:00' }, /end_date/],
        [{ end_date: '2030-01-02 24:00:00' }, /end_date/],
        [{ end_date: 1893553445 }, /end_date/],
      ];
      for (const [fields, named] of cases) {
        const patched = await api('PATCH', `${TABLE}/${change.sys_id}`, fields);
        assert.equal(patched.status, 400, JSON.stringify(fields));
        assert.equal(patched.body.error.message, 'Invalid field value');
        assert.match(patched.body.error.detail, named);
        const created = await api('POST', TABLE, { short_description: 'Deploy', ...fields });
        assert.equal(created.status, 400, JSON.stringify(fields));
      }
      assert.equal(simulator.store.bySysId(change.sys_id)?.start_date, '');
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
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const body = JSON.parse(sent.body.toString('utf8'));
      assert.match(body.event_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(body, {
        number: change.number,
        sys_id: change.sys_id,
        correlation_id: 'deploy.payments.ledger.staging.run-1',
        approval: 'approved',
        approver: 'jane.approver',
        group: 'change-approvers',
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

    it('when the same approver approves twice, then the second call changes nothing and sends no webhook', async () => {
      const change = await open();
      const first = await decide(change.number, 'approve');
      assert.equal(first.status, 200);
      const sent = receiver.requests.length;
      const again = await decide(change.number, 'approve');
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.webhook, { status: null, unchanged: true });
      assert.deepEqual(again.body.approval, first.body.approval);
      assert.deepEqual(again.body.change, simulator.store.byNumber(change.number));
      assert.equal(receiver.requests.length, sent);
      assert.equal(simulator.store.approvals(change.sys_id).length, 1);
    });

    it('when a change was rejected, then any further decision is 409 and sends no webhook', async () => {
      const change = await open();
      assert.equal((await decide(change.number, 'reject', { approver: 'bob.cab' })).status, 200);
      const sent = receiver.requests.length;
      for (const [action, approver] of [['approve', 'jane.approver'], ['reject', 'bob.cab'], ['approve', 'bob.cab']] as const) {
        const again = await decide(change.number, action, { approver });
        assert.equal(again.status, 409, `${approver} ${action}`);
        assert.match(again.body.error.detail, /rejected/);
      }
      assert.equal(receiver.requests.length, sent);
    });

    it('when a second approver approves a change that is already approved, then a second record is added and the webhook is sent', async () => {
      const change = await open({ assignment_group: 'Platform CAB' });
      await decide(change.number, 'approve', { approver: 'jane.approver' });
      const second = await decide(change.number, 'approve', { approver: 'olga.ops', comment: 'me too' });
      assert.equal(second.status, 200);
      assert.equal(second.body.change.approval, 'approved');
      assert.equal(second.body.change.state, '-2');
      assert.equal(second.body.change.u_approved_by, 'jane.approver', 'the approver who settled the change stays');
      assert.equal(second.body.webhook.status, 202);
      assert.deepEqual(
        simulator.store.approvals(change.sys_id).map((a) => [a.approver, a.group, a.state]),
        [['jane.approver', 'Platform CAB', 'approved'], ['olga.ops', 'Platform CAB', 'approved']],
      );
      const body = JSON.parse(lastWebhook().body.toString('utf8'));
      assert.equal(body.approver, 'olga.ops');
      assert.equal(body.group, 'Platform CAB');
      assert.equal(body.approval, 'approved');
      assert.equal(body.comment, 'me too');
    });

    it('when an approver rejects a change that is approved but not closed, then the change becomes rejected and cancelled', async () => {
      const change = await open();
      await decide(change.number, 'approve', { approver: 'jane.approver' });
      const rejected = await decide(change.number, 'reject', { approver: 'bob.cab', comment: 'freeze' });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.body.change.approval, 'rejected');
      assert.equal(rejected.body.change.state, '4');
      assert.equal(rejected.body.change.u_approved_by, 'bob.cab');
      assert.equal(rejected.body.approval.state, 'rejected');
      assert.equal(JSON.parse(lastWebhook().body.toString('utf8')).approval, 'rejected');
    });

    it('when an approver who approved later rejects, then their own record turns rejected and the change with it', async () => {
      const change = await open();
      const approved = await decide(change.number, 'approve', { approver: 'jane.approver' });
      const rejected = await decide(change.number, 'reject', { approver: 'jane.approver' });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.body.approval.sys_id, approved.body.approval.sys_id);
      assert.deepEqual(simulator.store.approvals(change.sys_id).map((a) => a.state), ['rejected']);
      assert.equal(rejected.body.change.approval, 'rejected');
    });

    it('when a group is given, then the approval record and the webhook carry it; an empty group is 400', async () => {
      const change = await open({ assignment_group: 'Platform CAB' });
      assert.equal((await decide(change.number, 'approve', { approver: 'sec.sam', group: '' })).status, 400);
      assert.equal((await decide(change.number, 'approve', { approver: 'sec.sam', group: 7 })).status, 400);
      const reply = await decide(change.number, 'approve', { approver: 'sec.sam', group: 'Security CAB' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.approval.group, 'Security CAB');
      assert.equal(reply.body.approval.sysapproval, change.sys_id);
      assert.equal(JSON.parse(lastWebhook().body.toString('utf8')).group, 'Security CAB');
    });

    it('when the change was closed, then a decision is 409', async () => {
      const change = await open();
      await api('PATCH', `${TABLE}/${change.sys_id}`, { state: '3', close_code: 'successful' });
      assert.equal((await decide(change.number, 'approve')).status, 409);
      assert.deepEqual(simulator.store.approvals(change.sys_id), []);
    });

    it('when each decision is sent, then each gets its own event_id', async () => {
      const change = await open();
      await decide(change.number, 'approve', { approver: 'a.one' });
      const first = JSON.parse(lastWebhook().body.toString('utf8'));
      await decide(change.number, 'approve', { approver: 'a.two' });
      const second = JSON.parse(lastWebhook().body.toString('utf8'));
      assert.notEqual(first.event_id, second.event_id);
    });

    it('when a decision webhook is redelivered, then the same body (same event_id) arrives again, freshly signed', async () => {
      const change = await open();
      await decide(change.number, 'approve', { approver: 'jane.approver', comment: 'ok' });
      const original = lastWebhook();
      await new Promise((r) => setTimeout(r, 1_100)); // a new second, so a new timestamp
      const redelivered = await api('POST', `/sim/changes/${change.number}/redeliver`, undefined, {});
      assert.equal(redelivered.status, 200);
      assert.deepEqual(redelivered.body, { webhook: { status: 202 } });
      const again = lastWebhook();
      assert.notEqual(again, original);
      assert.equal(again.body.toString('utf8'), original.body.toString('utf8'));
      assert.equal(JSON.parse(again.body.toString('utf8')).event_id, JSON.parse(original.body.toString('utf8')).event_id);
      assert.notEqual(header(again, TIMESTAMP_HEADER), header(original, TIMESTAMP_HEADER));
      const verdict = verifyWebhookSignature({ secret, rawBody: again.body, timestampHeader: header(again, TIMESTAMP_HEADER), signatureHeader: header(again, SIGNATURE_HEADER), nowSec: Math.floor(Date.now() / 1000) });
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
    });

    it('when a later approver decides, then redelivery sends the later decision', async () => {
      const change = await open();
      await decide(change.number, 'approve', { approver: 'first.one' });
      await decide(change.number, 'approve', { approver: 'second.one' });
      const latest = lastWebhook().body.toString('utf8');
      await api('POST', `/sim/changes/${change.number}/redeliver`, undefined, {});
      assert.equal(lastWebhook().body.toString('utf8'), latest);
      assert.equal(JSON.parse(latest).approver, 'second.one');
    });

    it('when a withheld webhook is redelivered, then the platform gets it (an instance retrying a lost webhook)', async () => {
      const change = await open();
      const withheld = await decide(change.number, 'approve', { approver: 'quiet.one', webhook: false });
      assert.deepEqual(withheld.body.webhook, { status: null, withheld: true });
      const sent = receiver.requests.length;
      const redelivered = await api('POST', `/sim/changes/${change.number}/redeliver`, undefined, {});
      assert.equal(redelivered.body.webhook.status, 202);
      assert.equal(receiver.requests.length, sent + 1);
      assert.equal(JSON.parse(lastWebhook().body.toString('utf8')).approver, 'quiet.one');
    });

    it('when there is nothing to redeliver, then 404', async () => {
      const change = await open();
      const nothing = await api('POST', `/sim/changes/${change.number}/redeliver`, undefined, {});
      assert.equal(nothing.status, 404);
      assert.match(nothing.body.error.detail, /no decision webhook/);
      assert.equal((await api('POST', '/sim/changes/CHG9999999/redeliver', undefined, {})).status, 404);
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

  describe('approval records (sysapproval_approver)', () => {
    /** A change approved by jane (Platform CAB) and then olga (Security CAB). */
    const twiceApproved = async () => {
      const change = await open({ assignment_group: 'Platform CAB' });
      await decide(change.number, 'approve', { approver: 'jane.approver', comment: 'fine' });
      await decide(change.number, 'approve', { approver: 'olga.ops', group: 'Security CAB' });
      return change as { sys_id: string; number: string };
    };
    const list = (params: Record<string, string>) => api('GET', `${APPROVALS}?${new URLSearchParams(params).toString()}`);

    it('when no credentials are sent, then 401', async () => {
      assert.equal((await api('GET', APPROVALS, undefined, {})).status, 401);
    });

    it('when queried by sysapproval without sysparm_fields, then the stored records come back as they are', async () => {
      const change = await twiceApproved();
      const reply = await list({ sysparm_query: `sysapproval=${change.sys_id}` });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.result.length, 2);
      const [jane] = reply.body.result;
      assert.deepEqual(Object.keys(jane).sort(), ['approver', 'comments', 'group', 'state', 'sys_created_on', 'sys_id', 'sys_updated_on', 'sysapproval']);
      assert.equal(jane.sysapproval, change.sys_id);
      assert.equal(jane.approver, 'jane.approver');
      assert.equal(jane.group, 'Platform CAB');
      assert.equal(jane.state, 'approved');
      assert.equal(jane.comments, 'fine');
      assert.match(jane.sys_id, /^[0-9a-f]{32}$/);
      assert.match(jane.sys_updated_on, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.deepEqual(reply.body.result, simulator.store.approvals(change.sys_id));
    });

    it('when the adapter asks for dot-walked fields, then each record is keyed by exactly those names', async () => {
      const change = await twiceApproved();
      const reply = await list({ sysparm_query: `sysapproval=${change.sys_id}`, sysparm_fields: ADAPTER_FIELDS });
      assert.equal(reply.status, 200);
      const stored = simulator.store.approvals(change.sys_id);
      assert.deepEqual(
        reply.body.result,
        stored.map((a) => ({ sys_id: a.sys_id, state: 'approved', 'approver.user_name': a.approver, 'group.assignment_group.name': a.group, sys_updated_on: a.sys_updated_on })),
      );
      assert.deepEqual(reply.body.result.map((a: Record<string, string>) => a['group.assignment_group.name']), ['Platform CAB', 'Security CAB']);
    });

    it('when sysparm_fields or sysparm_query names an unknown field, then 400 Invalid query', async () => {
      const unknownField = await list({ sysparm_fields: 'sys_id,approver.email' });
      assert.equal(unknownField.status, 400);
      assert.equal(unknownField.body.error.message, 'Invalid query');
      assert.match(unknownField.body.error.detail, /approver\.email/);
      assert.equal((await list({ sysparm_query: 'document_id=1' })).status, 400);
      assert.equal((await list({ sysparm_query: 'stateINapproved,rejected' })).status, 400);
      assert.equal((await list({ sysparm_limit: '0' })).status, 400);
    });

    it('when queried by several terms, a dot-walk and a limit, then only the matching records come back', async () => {
      const change = await twiceApproved();
      const olga = await list({ sysparm_query: `sysapproval=${change.sys_id}^approver.user_name=olga.ops^state=approved`, sysparm_fields: 'approver' });
      assert.deepEqual(olga.body.result, [{ approver: 'olga.ops' }]);
      const one = await list({ sysparm_query: `sysapproval=${change.sys_id}`, sysparm_limit: '1', sysparm_fields: 'approver' });
      assert.deepEqual(one.body.result, [{ approver: 'jane.approver' }]);
      assert.deepEqual((await list({ sysparm_query: `sysapproval=${'0'.repeat(32)}` })).body, { result: [] });
    });

    it('when one record is read by sys_id, then it comes back (projected when asked); an unknown sys_id is 404', async () => {
      const change = await twiceApproved();
      const [jane] = simulator.store.approvals(change.sys_id);
      assert.ok(jane);
      assert.deepEqual((await api('GET', `${APPROVALS}/${jane.sys_id}`)).body, { result: jane });
      const projected = await api('GET', `${APPROVALS}/${jane.sys_id}?sysparm_fields=${encodeURIComponent(ADAPTER_FIELDS)}`);
      assert.deepEqual(Object.keys(projected.body.result), ADAPTER_FIELDS.split(','));
      assert.equal(projected.body.result['approver.user_name'], 'jane.approver');
      assert.equal((await api('GET', `${APPROVALS}/${'f'.repeat(32)}`)).status, 404);
      assert.equal((await api('GET', `${APPROVALS}/${jane.sys_id}?sysparm_fields=nope`)).status, 400);
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
    const saved = JSON.parse(readFileSync(dataFile, 'utf8'));
    assert.equal(saved.version, 2);
    assert.equal(saved.records.length, 1);
    assert.deepEqual(saved.approvals.map((a: { approver: string; state: string }) => [a.approver, a.state]), [['bob', 'rejected']]);

    const second = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook, firstNumber: 1 });
    try {
      const found = await call(second.url, 'GET', `${TABLE}?sysparm_query=correlation_id=survivor`);
      assert.equal(found.body.result.length, 1);
      assert.equal(found.body.result[0].sys_id, created.body.result.sys_id);
      assert.equal(found.body.result[0].approval, 'rejected');
      assert.deepEqual(second.store.approvals(created.body.result.sys_id).map((a) => a.approver), ['bob']);
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

describe('ServiceNow simulator with an approval rule of two approvers', () => {
  const temp = tempDir('sn-sim-two');
  let receiver: StubServer;
  let simulator: RunningServiceNowSimulator;
  const decide = (number: string, action: 'approve' | 'reject', approver: string) => call(simulator.url, 'POST', `/sim/changes/${number}/${action}`, { approver }, {});
  const sentBodies = () => receiver.requests.map((r) => JSON.parse(r.body.toString('utf8')) as { approver: string; approval: string });

  before(async () => {
    receiver = await startStub((_req, res) => json(res, 202, { accepted: true }));
    simulator = await startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'c.json'), credentials, webhook: { url: `${receiver.url}/hook`, secret }, approvalsRequired: 2 });
  });
  after(async () => {
    await simulator.close();
    await receiver.close();
    temp.remove();
  });

  it('when one approver approves, then the change stays requested but that approval is recorded and announced', async () => {
    const created = await call(simulator.url, 'POST', TABLE, { short_description: 'Deploy' });
    const { number, sys_id: sysId } = created.body.result;
    const first = await decide(number, 'approve', 'jane.approver');
    assert.equal(first.status, 200);
    assert.equal(first.body.change.approval, 'requested');
    assert.equal(first.body.change.state, '-5');
    assert.equal(first.body.change.u_approved_by, '');
    assert.equal(first.body.approval.state, 'approved');
    // The webhook tells this approver's decision, not the change's.
    assert.equal(first.body.webhook.status, 202);
    assert.equal(sentBodies().at(-1)?.approver, 'jane.approver');
    assert.equal(sentBodies().at(-1)?.approval, 'approved');

    // The same approver again is not a second approver.
    const repeated = await decide(number, 'approve', 'jane.approver');
    assert.equal(repeated.body.change.approval, 'requested');
    assert.equal(simulator.store.approvals(sysId).length, 1);

    const second = await decide(number, 'approve', 'olga.ops');
    assert.equal(second.body.change.approval, 'approved');
    assert.equal(second.body.change.state, '-2');
    assert.equal(second.body.change.u_approved_by, 'olga.ops');
    assert.deepEqual(simulator.store.approvals(sysId).map((a) => a.approver), ['jane.approver', 'olga.ops']);
    assert.deepEqual(sentBodies().map((b) => b.approver), ['jane.approver', 'olga.ops']);
  });

  it('when one approver approves and another rejects, then the change is rejected', async () => {
    const created = await call(simulator.url, 'POST', TABLE, { short_description: 'Deploy' });
    await decide(created.body.result.number, 'approve', 'jane.approver');
    const rejected = await decide(created.body.result.number, 'reject', 'bob.cab');
    assert.equal(rejected.body.change.approval, 'rejected');
    assert.equal(rejected.body.change.state, '4');
  });
});

describe('ServiceNow simulator data files', () => {
  const temp = tempDir('sn-sim-files');
  const webhook = { url: 'http://127.0.0.1:9/unused', secret };
  after(() => temp.remove());

  it('when a version-1 data file is opened, then its changes load with an empty planned window and no approval records, and it is rewritten as version 2', async () => {
    const dataFile = join(temp.dir, 'v1', 'servicenow.json');
    mkdirSync(join(temp.dir, 'v1'));
    const legacy = {
      sys_id: 'b'.repeat(32), number: 'CHG0030001', short_description: 'Deploy', description: '', type: 'normal', correlation_id: 'legacy',
      correlation_display: '', requested_by: '', assignment_group: '', approval: 'requested', state: '-5', close_code: '', close_notes: '',
      sys_created_on: '2024-05-01 10:00:00', sys_updated_on: '2024-05-01 10:00:00', u_approved_by: '', comments: '',
    };
    writeFileSync(dataFile, JSON.stringify({ version: 1, nextNumber: 30002, records: [legacy] }));
    const sim = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook });
    try {
      const read = await call(sim.url, 'GET', `${TABLE}/${legacy.sys_id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body.result, { ...legacy, start_date: '', end_date: '' });
      assert.deepEqual(sim.store.approvals(), []);
      assert.equal(JSON.parse(readFileSync(dataFile, 'utf8')).version, 2);
      const decided = await call(sim.url, 'POST', '/sim/changes/CHG0030001/approve', { approver: 'jane', webhook: false }, {});
      assert.equal(decided.body.change.approval, 'approved');
      const next = await call(sim.url, 'POST', TABLE, { short_description: 'Deploy again' });
      assert.equal(next.body.result.number, 'CHG0030002');
    } finally {
      await sim.close();
    }
    assert.equal(JSON.parse(readFileSync(dataFile, 'utf8')).approvals.length, 1);
  });

  it('when the data file has an unknown version, then the simulator refuses to start', async () => {
    const dataFile = join(temp.dir, 'v9.json');
    writeFileSync(dataFile, JSON.stringify({ version: 9, nextNumber: 1, records: [], approvals: [] }));
    await assert.rejects(startServiceNowSimulator({ port: 0, dataFile, credentials, webhook }), /version 1 or 2/);
  });

  it('when approvalsRequired is not a positive integer, then the simulator refuses to start', async () => {
    for (const approvalsRequired of [0, -1, 1.5]) {
      await assert.rejects(startServiceNowSimulator({ port: 0, dataFile: join(temp.dir, 'rule.json'), credentials, webhook, approvalsRequired }), /approvalsRequired/);
    }
  });
});
