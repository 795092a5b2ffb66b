/**
 * Approvals nobody can fake: whatever channel reports a decision (the webhook, a signal or update
 * sent straight through Temporal), the run acts only on what ServiceNow records, judged against
 * the approver rules; the change window and the scan's age bound the deploy.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { approvalSignal, approvalUpdate, DecisionRejection } from '../../shared/contracts/run';
import type { ApprovalDecision } from '../../shared/domain';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

const ENVIRONMENTS = `
environments:
  staging:
    cluster: local
    approval: { required: true, deadline: 1h }
    scan: { required: true, blockSeverities: [CRITICAL] }
  prod:
    cluster: local
    approval: { required: true, deadline: 1h, approvers: { groups: [cab-prod], quorum: 2 } }
    scan: { required: true, blockSeverities: [CRITICAL, HIGH] }
  brief:
    cluster: local
    approval: { required: true, deadline: 1h, window: 3s }
    scan: { required: false, blockSeverities: [CRITICAL] }
  fresh:
    cluster: local
    approval: { required: true, deadline: 1h }
    scan: { required: false, blockSeverities: [CRITICAL], maxAge: 1s }
`;

const PREVIOUS_WEBHOOK_SECRET = randomBytes(32).toString('hex');
let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform({ environments: ENVIRONMENTS, env: { SERVICENOW_WEBHOOK_PREVIOUS_SECRET: PREVIOUS_WEBHOOK_SECRET } });
});
after(async () => {
  await platform.stop();
});

async function waitingRun(service: string, environment: string, options: { token?: string; requestedBy?: string } = {}) {
  const image = `registry.example.com/payments/${service}@${uniqueDigest()}`;
  const body = deploymentBody({ service, environment, image, scanReport: trivyReport(image), ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}) });
  const started = await platform.http('POST', '/v1/deployments', body, options.token ? { token: options.token } : {});
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
  return { id: started.body.deploymentId as string, runId: started.body.runId as string, change: waiting.change!.number, sysId: waiting.change!.sysId };
}

/** Waits until the run has recorded `count` refused reports. */
async function refusals(id: string, count: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = (await platform.deployments.snapshot(id))?.view;
    if ((view?.approval.refused?.length ?? 0) >= count) return view!;
    if (Date.now() > deadline) throw new Error(`run ${id} did not record ${count} refusals: ${JSON.stringify(view?.approval)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serviceNowChange(runId: string) {
  const changes = await platform.changesOfRun(runId);
  assert.equal(changes.length, 1);
  return changes[0]!;
}

/** Writes fields of a change through the Table API, as a change manager editing it would. */
async function editChange(sysId: string, fields: Record<string, string>) {
  const auth = Buffer.from(`${platform.config.servicenow.user}:${platform.config.servicenow.password}`).toString('base64');
  const response = await fetch(`${platform.simulatorUrl}/api/now/table/change_request/${sysId}`, {
    method: 'PATCH',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(fields),
  });
  assert.equal(response.status, 200, await response.text());
}

const glide = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

describe('decisions sent straight through Temporal', () => {
  it('when a signal and an update claim approval that ServiceNow does not record, then nothing deploys and both are recorded as refused', async () => {
    const run = await waitingRun('forged', 'staging');
    const handle = platform.client.workflow.getHandle(run.id, run.runId);

    await handle.signal(approvalSignal, { decision: 'approved', approver: 'mallory', changeNumber: run.change, via: 'webhook' });
    const answer = await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approved', approver: 'mallory', changeNumber: run.change }] });
    assert.equal(answer.outcome, 'refused');
    assert.match(answer.reason ?? '', /no decision/);

    const view = await refusals(run.id, 2);
    assert.equal(view.status, 'awaiting_approval');
    assert.deepEqual(view.approval.refused!.map((r) => r.via).sort(), ['signal', 'update']);
    assert.ok(view.approval.refused!.every((r) => r.claimed === 'approved' && /no decision on/.test(r.reason)));
    assert.equal(view.steps.some((s) => s.name === 'deploy'), false);
    assert.equal((await serviceNowChange(run.runId)).approval, 'requested');

    // The real approval still works, and says how it came.
    assert.equal((await platform.simulator('approve', run.change, 'jane.approver')).status, 200);
    const done = await platform.waitForStatus(run.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.approval.via, 'update');
    assert.deepEqual(done.approval.approvers, ['jane.approver']);
    assert.ok(done.approval.deliveryId, 'the webhook delivery id is recorded');
  });

  it('when an update is for another change or malformed, then the validator refuses it and nothing is recorded', async () => {
    const run = await waitingRun('validated', 'staging');
    const handle = platform.client.workflow.getHandle(run.id, run.runId);
    const refusedBecause = async (decision: ApprovalDecision) => {
      const error = await handle.executeUpdate(approvalUpdate, { args: [decision] }).then(
        () => assert.fail('the update was accepted'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure, String(error));
      return { type: error.cause.type, message: error.cause.message };
    };
    assert.deepEqual(await refusedBecause({ decision: 'approved', approver: 'x', changeNumber: 'CHG0000001' }), {
      type: DecisionRejection.Invalid,
      message: `the decision is for change CHG0000001, but this run opened ${run.change}`,
    });
    assert.equal((await refusedBecause({ decision: 'maybe' as 'approved', approver: 'x', changeNumber: run.change })).type, DecisionRejection.Invalid);
    const view = (await platform.deployments.snapshot(run.id))?.view;
    assert.equal(view?.approval.refused, undefined);
    await handle.cancel();
  });
});

describe('separation of duties and approver rules', () => {
  it('when the requester approves their own change, then it is refused and the run waits for someone else', async () => {
    // The payments token's subject is ci-payments; requestedBy names a person, who may not approve either.
    const run = await waitingRun('selfie', 'staging', { token: platform.tokens.payments, requestedBy: 'bob.dev' });
    const self = await platform.simulator('approve', run.change, 'ci-payments');
    assert.equal(self.body.webhook.status, 422, JSON.stringify(self.body.webhook));
    const named = await platform.simulator('approve', run.change, 'bob.dev');
    assert.equal(named.body.webhook.status, 422);
    const view = await refusals(run.id, 2);
    assert.equal(view.status, 'awaiting_approval');
    assert.match(view.approval.refused![0]!.reason, /ci-payments is the requester/);

    const other = await platform.simulator('approve', run.change, 'alice.approver');
    assert.equal(other.body.webhook.status, 202, JSON.stringify(other.body.webhook));
    const done = await platform.waitForStatus(run.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(done.approval.approvers, ['alice.approver']);
  });

  it('when prod needs two approvers from cab-prod, then one approver, or one from another group, is refused; a second from cab-prod deploys', async () => {
    const run = await waitingRun('quorum', 'prod');
    const first = await platform.simulator('approve', run.change, 'alice.cab', undefined, 'cab-prod');
    assert.equal(first.body.webhook.status, 422);
    assert.equal((await serviceNowChange(run.runId)).approval, 'approved', 'ServiceNow itself needs only one approver');
    const outsider = await platform.simulator('approve', run.change, 'carol.ops', undefined, 'change-approvers');
    assert.equal(outsider.body.webhook.status, 422);
    const view = await refusals(run.id, 2);
    assert.equal(view.status, 'awaiting_approval');
    assert.match(view.approval.refused![1]!.reason, /needs 2 distinct approvers from cab-prod.*carol\.ops approved for group change-approvers/);

    const second = await platform.simulator('approve', run.change, 'dave.cab', undefined, 'cab-prod');
    assert.equal(second.body.webhook.status, 202, JSON.stringify(second.body.webhook));
    const done = await platform.waitForStatus(run.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual([...done.approval.approvers!].sort(), ['alice.cab', 'dave.cab']);
  });
});

describe('webhook deliveries', () => {
  it('when ServiceNow redelivers an applied decision, then it answers 200 with the same outcome', async () => {
    const run = await waitingRun('redelivered', 'staging');
    const first = await platform.simulator('approve', run.change, 'jane.approver');
    assert.equal(first.body.webhook.status, 202);
    const again = await platform.redeliver(run.change);
    assert.equal(again.body.webhook.status, 200, JSON.stringify(again.body));
    await platform.waitForStatus(run.id, 'succeeded', 30_000);
    const late = await platform.redeliver(run.change);
    assert.equal(late.body.webhook.status, 200, 'a redelivery after the run ended still gets the same outcome');
  });

  it('when the webhook secret is being rotated, then a decision signed with the previous secret is applied too', async () => {
    const run = await waitingRun('rotated', 'staging');
    const decided = await platform.http('POST', `${platform.simulatorUrl}/sim/changes/${run.change}/approve`, { approver: 'jane.approver', webhook: false }, { token: null });
    assert.equal(decided.status, 200);
    const body = JSON.stringify({ number: run.change, sys_id: run.sysId, correlation_id: run.runId, approval: 'approved', approver: 'jane.approver', event_id: 'rotation-1' });
    const signed = signWebhook(PREVIOUS_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000));
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, {
      raw: body,
      token: null,
      headers: { [TIMESTAMP_HEADER]: signed.timestamp, [SIGNATURE_HEADER]: signed.signature },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.outcome, 'applied');
    const done = await platform.waitForStatus(run.id, 'succeeded', 30_000);
    assert.equal(done.approval.deliveryId, 'rotation-1');
  });

  it('when a decision names a change no run owns, then 404 says so', async () => {
    const body = JSON.stringify({ number: 'CHG0000404', approval: 'approved', approver: 'x', event_id: 'orphan-1' });
    const signed = signWebhook(platform.webhookSecret, body, Math.floor(Date.now() / 1000));
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: { [TIMESTAMP_HEADER]: signed.timestamp, [SIGNATURE_HEADER]: signed.signature } });
    assert.equal(res.status, 404);
    assert.match(res.body.detail, /no platform run opened change CHG0000404/);
  });
});

describe('change windows', () => {
  it('when the change is approved before its planned window, then the run waits for the window and then deploys', async () => {
    const run = await waitingRun('windowed', 'staging');
    const opensAt = Date.now() + 4_000;
    await editChange(run.sysId, { start_date: glide(opensAt), end_date: glide(opensAt + 3_600_000) });
    assert.equal((await platform.simulator('approve', run.change, 'jane.approver')).body.webhook.status, 202);
    const waiting = await platform.waitForStatus(run.id, 'waiting_for_window', 10_000);
    assert.equal(waiting.stage, 'awaitWindow');
    const done = await platform.waitForStatus(run.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded');
    const deploy = done.steps.find((s) => s.name === 'deploy')!;
    assert.ok(Date.parse(deploy.startedAt) >= Math.floor(opensAt / 1000) * 1000, `deploy started ${deploy.startedAt}, window opened ${new Date(opensAt).toISOString()}`);
  });

  it('when the window the policy set closes while the change awaits approval, then the run expires at the window end', async () => {
    const run = await waitingRun('closing', 'brief');
    const change = await serviceNowChange(run.runId);
    assert.ok(change.start_date && change.end_date, 'the platform proposed the window when it opened the change');
    const done = await platform.waitForStatus(run.id, ['expired', 'succeeded', 'failed'], 20_000);
    assert.equal(done.status, 'expired');
    assert.match(done.approval.expiredBecause ?? '', /change window closed/);
    assert.equal(done.error?.type, 'ApprovalExpired');
    assert.equal((await serviceNowChange(run.runId)).state, '4', 'the change is cancelled');
  });
});

describe('fresh scans', () => {
  it('when approval arrives later than the scan freshness limit, then the image is scanned again before deploying', async () => {
    const run = await waitingRun('stale', 'fresh');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal((await platform.simulator('approve', run.change, 'jane.approver')).body.webhook.status, 202);
    const done = await platform.waitForStatus(run.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded');
    assert.ok(done.scan?.scannedAt && done.rescan?.scannedAt, JSON.stringify({ scan: done.scan, rescan: done.rescan }));
    assert.ok(Date.parse(done.rescan.scannedAt) > Date.parse(done.scan.scannedAt));
    const names = done.steps.map((s) => s.name);
    assert.ok(names.indexOf('rescan') > names.indexOf('awaitApproval') && names.indexOf('rescan') < names.indexOf('deploy'), names.join(','));
  });
});
