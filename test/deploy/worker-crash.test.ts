/**
 * Durability: the worker process is killed with SIGKILL at the worst moments of a run — right
 * after the change appeared in ServiceNow, while waiting for approval, right after the deploy
 * commit landed — and a fresh worker process finishes the run with no duplicate change and no
 * duplicate commit.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ChangeNumber, DeployStatus } from '../../shared/search-attributes';
import { GitOpsRepo, trivyReport } from '../helpers/fixtures';
import { workerProcesses } from '../helpers/worker-processes';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;
const workers = workerProcesses(() => platform.env);

before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await workers.killAll();
  await platform.stop();
});

it('when the worker is killed mid-run three times, then a new worker finishes the run with one change and one commit per step', { timeout: 240_000 }, async () => {
  const repo = new GitOpsRepo(platform.config.gitops.repoDir);
  const image = `registry.example.com/payments/durable:2.0.0@${uniqueDigest()}`;
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'durable', environment: 'staging', image, scanReport: trivyReport(image) }));
  assert.equal(started.status, 202);
  const { deploymentId, runId } = started.body as { deploymentId: string; runId: string };

  // 1. Kill the worker the moment the change exists: the openChange activity may not have reported back.
  let worker = workers.start('worker-1');
  await workers.until('the change to be opened', async () => ((await platform.changesOfRun(runId)).length > 0 ? true : undefined));
  await workers.kill(worker);

  // 2. A new worker picks the run up; kill it again while the run waits for approval.
  worker = workers.start('worker-2');
  const waiting = await platform.waitForStatus(deploymentId, 'awaiting_approval', 90_000);
  // The query answers from the worker's memory; wait until the server has the wait recorded too
  // (search attributes the webhook finds the run by), or the kill could lose that workflow task.
  await workers.until('the wait to be recorded', async () => {
    const description = await platform.client.workflow.getHandle(deploymentId).describe();
    return description.typedSearchAttributes.get(DeployStatus) === 'awaiting_approval' && description.typedSearchAttributes.get(ChangeNumber) ? true : undefined;
  });
  await workers.kill(worker);

  // 3. Approve while no worker runs: the signal waits in Temporal. Kill the next worker right after the deploy commit.
  const approved = await platform.simulator('approve', waiting.change!.number, 'ops.olga');
  assert.equal(approved.body.webhook.status, 202, JSON.stringify(approved.body.webhook));
  worker = workers.start('worker-3');
  await workers.until('the deploy commit', () => (repo.commitsWithTrailer('Platform-Run', runId).length > 0 ? true : undefined));
  await workers.kill(worker);

  // 4. The last worker finishes the run.
  worker = workers.start('worker-4');
  try {
    const done = await platform.waitForStatus(deploymentId, 'succeeded', 120_000);
    assert.equal(done.approval.approver, 'ops.olga');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${workers.tail(60)}`);
  } finally {
    await workers.kill(worker);
  }

  const changes = await platform.changesOfRun(runId);
  assert.equal(changes.length, 1, 'exactly one change for the run');
  assert.equal(changes[0]?.close_code, 'successful');
  const keys = repo.commitsWithTrailer('Platform-Run', runId).map((c) => c.subject);
  assert.equal(keys.length, 2, `one deploy and one mesh commit, got: ${keys.join(' | ')}`);
});
