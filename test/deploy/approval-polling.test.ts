/**
 * The missed-webhook fallback: the ServiceNow simulator decides a change without calling the
 * platform (as when the webhook is lost), and the run still learns the decision by polling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform({ approvalPollIntervalMs: 1_000 });
});
after(async () => {
  await platform.stop();
});

async function waitingStagingRun(service: string) {
  const image = `registry.example.com/payments/${service}@${uniqueDigest()}`;
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service, environment: 'staging', image, scanReport: trivyReport(image) }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
  return { id: started.body.deploymentId as string, change: waiting.change!.number };
}

/** Decides in the simulator with the webhook withheld: only polling can tell the run. */
async function decideSilently(action: 'approve' | 'reject', change: string, approver: string) {
  const res = await platform.http('POST', `${platform.config.servicenow.url}/sim/changes/${change}/${action}`, { approver, webhook: false }, { token: null });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.webhook.withheld, true);
}

describe('approval polling (missed webhook)', () => {
  it('when the approval webhook never arrives, then the run reads the approval from ServiceNow and deploys', async () => {
    const { id, change } = await waitingStagingRun('polled');
    await decideSilently('approve', change, 'quiet.approver');
    const done = await platform.waitForStatus(id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.approval.decision, 'approved');
    assert.equal(done.approval.via, 'poll');
    assert.equal(done.approval.approver, 'quiet.approver');
  });

  it('when a rejection webhook never arrives, then the run reads the rejection and deploys nothing', async () => {
    const { id, change } = await waitingStagingRun('polled-reject');
    await decideSilently('reject', change, 'strict.approver');
    const done = await platform.waitForStatus(id, ['rejected', 'succeeded', 'failed'], 30_000);
    assert.equal(done.status, 'rejected');
    assert.equal(done.approval.via, 'poll');
    assert.equal(done.error?.type, 'ApprovalRejected');
    assert.equal(done.steps.some((s) => s.name === 'deploy'), false);
  });

  it('when the simulator is asked to withhold a webhook with a bad flag, then it refuses', async () => {
    const res = await platform.http('POST', `${platform.config.servicenow.url}/sim/changes/CHG0000000/approve`, { approver: 'x', webhook: 'no' }, { token: null });
    assert.equal(res.status, 400);
  });
});
