/**
 * Restart in place (ADR 17): a worker that starts where a dead one ran hands the dead worker's
 * activity attempts back at once (failed by id as `WorkerEnded`) instead of waiting for their
 * heartbeat timeout, and takes the workflow tasks queued on the dead worker's sticky queue back to
 * the task queue instead of waiting for the sticky timeout; a worker that may still be alive is
 * never taken over.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withFileLock } from '../../activities/adapters/gitops/lock';
import { newWorkerIdentity, WORKER_ENDED, WorkerRecords, type WorkerRecord } from '../../workers/takeover';
import { trivyReport } from '../helpers/fixtures';
import { workerProcesses } from '../helpers/worker-processes';
import { DeployStatus } from '../../shared/search-attributes';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { temporal } from '@temporalio/proto';

describe('worker records: which predecessors are certainly dead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'worker-records-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const record = (pid: number, host = 'node-a'): WorkerRecord => ({ identity: newWorkerIdentity(host, pid), pid, host, startedAt: new Date().toISOString() });

  it('when records name this pid under another identity, a gone pid, a live pid and another host, then only the first two are dead', () => {
    const records = new WorkerRecords(dir, 'deploy-platform');
    const self = record(1);
    const earlierIncarnation = record(1); // a container restart: same pid, new process
    const gone = record(4242);
    const alive = record(777);
    const elsewhere = record(4243, 'node-b');
    for (const r of [self, earlierIncarnation, gone, alive, elsewhere]) records.register(r);
    writeFileSync(join(dir, 'workers', 'deploy-platform', 'garbage.json'), '{not json');

    const dead = records.deadPredecessors(self, (pid) => pid === 1 || pid === 777);
    assert.deepEqual(dead.map((d) => d.identity).sort(), [earlierIncarnation.identity, gone.identity].sort());

    records.forget(gone.identity);
    assert.deepEqual(records.deadPredecessors(self, (pid) => pid === 1 || pid === 777).map((d) => d.identity), [earlierIncarnation.identity]);
  });

  it('when no worker ever ran here, then there is nobody to take over', () => {
    assert.deepEqual(new WorkerRecords(join(dir, 'empty'), 'q').deadPredecessors(record(1)), []);
  });
});

describe('a worker restarted in place', () => {
  let platform: TestPlatform;
  const workers = workerProcesses(() => platform.env);

  before(async () => {
    platform = await startTestPlatform({ startWorker: false });
  });
  after(async () => {
    await workers.killAll();
    await platform.stop();
  });

  async function deploy(service: string, environment = 'dev'): Promise<{ deploymentId: string; runId: string }> {
    const image = `registry.example.com/payments/${service}:1.0.0@${uniqueDigest()}`;
    const body = deploymentBody({ service, environment, image, route: { host: `${service}.payments.example.com`, path: '/' }, ...(environment === 'dev' ? {} : { scanReport: trivyReport(image) }) });
    const started = await platform.http('POST', '/v1/deployments', body);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return started.body as { deploymentId: string; runId: string };
  }

  it('when the worker is killed while an activity waits for the GitOps lock, then the next worker fails that attempt as WorkerEnded and the run succeeds', { timeout: 240_000 }, async () => {
    let worker = workers.start('worker-1');
    const first = await deploy('takeover-warmup');
    await platform.waitForStatus(first.deploymentId, 'succeeded', 90_000); // the repository exists from here on

    let release = (): void => undefined;
    const releasedLock = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((acquired) => {
      void withFileLock(join(platform.config.gitops.repoDir, '.git', 'deploy-platform.lock'), { timeoutMs: 10_000 }, async () => {
        acquired();
        await releasedLock;
      });
    });
    await held;
    try {
      const run = await deploy('takeover');
      const { namespace } = platform.client.options;
      const stuck = await workers.until('the deploy step to be started by worker-1', async () => {
        const described = await platform.client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: run.deploymentId, runId: run.runId } });
        return (described.pendingActivities ?? []).find((a) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED && a.activityType?.name === 'deployRelease');
      });
      // A workflow task a dead worker had started holds its run for this long (TEMPORAL_WORKFLOW_TASK_TIMEOUT).
      const config = await platform.client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: run.deploymentId, runId: run.runId } });
      assert.equal(Number(config.executionConfig?.defaultWorkflowTaskTimeout?.seconds), platform.config.temporal.workflowTaskTimeoutMs / 1000);
      await workers.kill(worker);

      worker = workers.start('worker-2');
      await workers.until('worker-2 to take over', async () => (workers.tail(200).includes('took over from a dead predecessor') ? true : undefined));
      assert.match(workers.tail(200), /took over from a dead predecessor .*activities=1\b/);
      release();

      const done = await platform.waitForStatus(run.deploymentId, 'succeeded', 90_000);
      assert.equal(done.status, 'succeeded');
      const events = (await platform.client.workflow.getHandle(run.deploymentId, run.runId).fetchHistory()).events ?? [];
      // Retried attempts are not events: the attempt that succeeded carries the one before it.
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deployRelease');
      const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
      assert.equal(started?.activityTaskStartedEventAttributes?.attempt, 2, 'the dead worker’s attempt and the one that succeeded');
      const before = started?.activityTaskStartedEventAttributes?.lastFailure;
      assert.equal(before?.applicationFailureInfo?.type, WORKER_ENDED, `the first attempt was handed back, not timed out: ${JSON.stringify(before?.timeoutFailureInfo ?? before?.applicationFailureInfo)}`);
      assert.ok(stuck.lastWorkerIdentity, 'Temporal recorded which worker ran the attempt');
    } finally {
      release();
      await workers.kill(worker);
    }
  });

  it('when an approval reaches a parked run while no worker lives, then the next worker takes its task off the dead worker’s sticky queue', { timeout: 240_000 }, async () => {
    let worker = workers.start('worker-3');
    try {
      const run = await deploy('takeover-parked', 'staging');
      const waiting = await platform.waitForStatus(run.deploymentId, 'awaiting_approval', 90_000);
      // The wait must be recorded on the server (the webhook finds the run by it) before the kill.
      await workers.until('the wait to be recorded', async () => ((await platform.client.workflow.getHandle(run.deploymentId).describe()).typedSearchAttributes.get(DeployStatus) === 'awaiting_approval' ? true : undefined));
      await workers.kill(worker);

      // The decision's workflow task is queued on the dead worker's sticky queue.
      const approved = await platform.simulator('approve', waiting.change!.number, 'ops.olga');
      assert.equal(approved.body.webhook.status, 202, JSON.stringify(approved.body.webhook));
      worker = workers.start('worker-4');
      await workers.until('worker-4 to take over', async () => (/took over from a dead predecessor .*stickyTasks=[1-9]/.test(workers.tail(400)) ? true : undefined));

      assert.equal((await platform.waitForStatus(run.deploymentId, 'succeeded', 90_000)).approval.approver, 'ops.olga');
      const events = (await platform.client.workflow.getHandle(run.deploymentId, run.runId).fetchHistory()).events ?? [];
      const handedBack = events.filter((e) => e.workflowTaskFailedEventAttributes?.cause === temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE);
      assert.equal(handedBack.length, 1, 'the queued task was taken and handed back once');
      const stickyTimeouts = events.filter((e) => e.workflowTaskTimedOutEventAttributes?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
      assert.equal(stickyTimeouts.length, 0, 'no task waited for the sticky timeout');
    } finally {
      await workers.kill(worker);
    }
  });
});
