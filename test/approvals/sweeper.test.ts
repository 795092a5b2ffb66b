/**
 * The approval sweeper end to end (ADR 16): parked runs make no ServiceNow reads of their own; one
 * query per interval finds decisions, and only the run whose change was decided reads it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeManagement } from '../../activities/ports/change-management';
import { approvalSweeperId } from '../../shared/contracts/approval-sweeper';
import { changeUpdatedSignal } from '../../shared/contracts/run';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

const PARKED = 12;
const calls = { decidedSince: 0, get: 0, approvals: 0 };
/** Every read of ServiceNow the worker makes, by kind. */
function counting(real: ChangeManagement): ChangeManagement {
  return {
    ...real,
    open: (request) => real.open(request),
    close: (request) => real.close(request),
    get: (sysId) => (calls.get++, real.get(sysId)),
    approvals: (sysId) => (calls.approvals++, real.approvals(sysId)),
    decidedSince: (since, page) => (calls.decidedSince++, real.decidedSince(since, page)),
  };
}

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform({ approvalPollIntervalMs: 1_000, ports: (real) => ({ changes: counting(real.changes) }) });
});
after(async () => {
  await platform?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function park(service: string): Promise<{ id: string; change: string }> {
  const image = `registry.example.com/payments/${service}@${uniqueDigest()}`;
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service, environment: 'staging', image, scanReport: trivyReport(image) }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
  return { id: started.body.deploymentId, change: waiting.change!.number };
}

async function decideSilently(change: string, approver: string): Promise<void> {
  const res = await platform.http('POST', `${platform.config.servicenow.url}/sim/changes/${change}/approve`, { approver, webhook: false }, { token: null });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

describe('approval sweeper', () => {
  let parked: { id: string; change: string }[] = [];

  it('when the worker starts, then one sweeper runs for its task queue, visible in Temporal', async () => {
    const description = await platform.client.workflow.getHandle(approvalSweeperId(platform.config.temporal.taskQueue)).describe();
    assert.equal(description.status.name, 'RUNNING');
    assert.equal(description.type, 'approvalSweeperWorkflow');
  });

  it(`when ${PARKED} runs wait and nothing is decided, then ServiceNow sees one query per interval and no read of any change`, async () => {
    parked = await Promise.all(Array.from({ length: PARKED }, (_, i) => park(`parked-${i}`)));
    await sleep(1_500); // let reads triggered by parking (none expected) settle
    const before = { ...calls };
    await sleep(5_000);
    const sweeps = calls.decidedSince - before.decidedSince;
    assert.ok(sweeps >= 2 && sweeps <= 7, `expected about one query a second over 5 s, saw ${sweeps}`);
    assert.equal(calls.get - before.get, 0, 'parked runs read their changes');
    assert.equal(calls.approvals - before.approvals, 0, 'parked runs read approval records');
  });

  it('when a prompt names another change, then the run ignores it and reads nothing', async () => {
    const [first, second] = parked;
    const before = { ...calls };
    // The deployment id is the run's workflow id.
    await platform.client.workflow.getHandle(first!.id).signal(changeUpdatedSignal, { changeNumber: second!.change });
    await sleep(1_000);
    assert.equal(calls.get - before.get, 0);
    assert.equal((await platform.waitForStatus(first!.id, 'awaiting_approval')).status, 'awaiting_approval');
  });

  it('when one change is decided without a webhook, then only its run reads it, and it deploys', async () => {
    const [target, ...others] = parked;
    const before = { ...calls };
    await decideSilently(target!.change, 'quiet.approver');
    const done = await platform.waitForStatus(target!.id, ['succeeded', 'failed', 'rolled_back'], 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.approval.via, 'poll');
    assert.equal(done.approval.approver, 'quiet.approver');
    const reads = calls.get - before.get;
    assert.ok(reads >= 1 && reads <= 2, `expected the decided run to read its change once (twice at most, a late prompt), saw ${reads}`);
    for (const other of others.slice(0, 3)) assert.equal((await platform.waitForStatus(other.id, 'awaiting_approval')).status, 'awaiting_approval');
  });
});
