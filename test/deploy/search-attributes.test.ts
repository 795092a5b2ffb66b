/**
 * What a deploy run writes to its search attributes (ADR 21), read from its history on a real
 * Temporal server: each upsert is a history event and a visibility write, so a run writes a value
 * only when it changes, a stage and a status that change together in one upsert, and the change
 * number with the next stage or status. What operators filter on stays exact: the final
 * attributes, and the status, stage and change number of a run waiting for approval, together.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import type { DeploymentStatusView } from '../../shared/contracts/deploy';
import { ChangeNumber, DeployStage, DeployStatus } from '../../shared/search-attributes';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform();
});
after(async () => {
  await platform.stop();
});

async function deploy(service: string, environment: 'dev' | 'staging'): Promise<{ deploymentId: string; runId: string }> {
  const image = `registry.example.com/payments/${service}:1.0.0@${uniqueDigest()}`;
  const body = deploymentBody({ service, environment, image, route: { host: `${service}.payments.example.com`, path: '/' }, ...(environment === 'dev' ? {} : { scanReport: trivyReport(image) }) });
  const started = await platform.http('POST', '/v1/deployments', body);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return started.body as { deploymentId: string; runId: string };
}

/** Each upsert event of the run, as the attribute names and values it set (core's patch upserts included). */
async function upsertsOf(run: { deploymentId: string; runId: string }): Promise<Record<string, unknown>[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = (await platform.client.workflow.getHandle(run.deploymentId, run.runId).fetchHistory()).events ?? [];
  return events.flatMap((event) => {
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (!fields) return [];
    return [Object.fromEntries(Object.entries(fields).map(([name, payload]) => [name, payload.data ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as unknown) : null]))];
  });
}

const ended = (id: string): Promise<DeploymentStatusView> => platform.waitForStatus(id, ['succeeded', 'failed', 'rolled_back', 'rejected', 'expired', 'superseded', 'cancelled'], 120_000);

describe('search attributes of a deploy run', () => {
  it('when a dev run succeeds, then it wrote each stage once, the first one not again, the change number with the deploy stage, and its final stage and status in one upsert', async () => {
    const run = await deploy('sa-dev', 'dev');
    const view = await ended(run.deploymentId);
    assert.equal(view.status, 'succeeded');

    const upserts = await upsertsOf(run);
    const ours = upserts.filter((u) => !('TemporalChangeVersion' in u));
    assert.equal(upserts.length - ours.length, 1, 'one patch marker, one upsert of TemporalChangeVersion');
    assert.deepEqual(
      ours.map((u) => u[DeployStage.name]),
      ['render', 'openChange', 'deploy', 'wireMesh', 'verify', 'closeChange', 'done'],
      'no upsert of the first stage: the start already set it',
    );
    const withNumber = ours.filter((u) => ChangeNumber.name in u);
    assert.equal(withNumber.length, 1);
    assert.deepEqual(withNumber[0], { [ChangeNumber.name]: view.change?.number, [DeployStage.name]: 'deploy' });
    assert.deepEqual(ours.at(-1), { [DeployStage.name]: 'done', [DeployStatus.name]: 'succeeded' });
    assert.equal(upserts.length, 8, 'a dev run writes 8 upserts (10 before ADR 21)');

    const { searchAttributes } = await platform.client.workflow.getHandle(run.deploymentId, run.runId).describe();
    assert.deepEqual(searchAttributes[ChangeNumber.name], [view.change?.number]);
    assert.deepEqual(searchAttributes[DeployStage.name], ['done']);
    assert.deepEqual(searchAttributes[DeployStatus.name], ['succeeded']);
  });

  it('when a staging run waits for approval, then its status, stage and change number are written in one upsert, and the approval through the webhook finds the run by them', async () => {
    const run = await deploy('sa-staging', 'staging');
    const waiting = await platform.waitForStatus(run.deploymentId, 'awaiting_approval', 60_000);
    const number = waiting.change?.number;
    assert.ok(number);

    const awaiting = (await upsertsOf(run)).filter((u) => u[DeployStatus.name] === 'awaiting_approval');
    assert.deepEqual(awaiting, [{ [ChangeNumber.name]: number, [DeployStatus.name]: 'awaiting_approval', [DeployStage.name]: 'awaitApproval' }]);
    const listed = await platform.http('GET', `/v1/deployments?status=awaiting_approval&changeNumber=${number}`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(
      (listed.body.items as { deploymentId: string }[]).map((item) => item.deploymentId),
      [run.deploymentId],
      'the list by status and change number finds the waiting run',
    );

    assert.equal((await platform.simulator('approve', number, 'ops.olga')).body.webhook.status, 202);
    const view = await ended(run.deploymentId);
    assert.equal(view.status, 'succeeded');
    const statuses = (await upsertsOf(run)).flatMap((u) => (DeployStatus.name in u ? [u[DeployStatus.name]] : []));
    assert.deepEqual(statuses, ['awaiting_approval', 'running', 'succeeded'], 'running again as soon as the decision was accepted');
  });
});
