/**
 * One deploy at a time per service and environment (ADR 15), against the real Temporal server,
 * worker, ServiceNow simulator and GitOps target:
 * - a newer request supersedes an older run still waiting for approval, whose change is cancelled;
 * - a run ready to deploy while another run of the service is changing the environment is
 *   `queued` behind it, and a still newer request supersedes the queued one;
 * - ten concurrent deploys of one service end with no failure, no rollback, and the newest
 *   request's image deployed.
 * - a run leaves its lane before it records its final status, in the same workflow task that
 *   closes it, so whoever reads a final status finds the run closed;
 * - a run talks to its lane with local activities (ADR 19): no activity task, no signal command;
 * - a run that waits for nothing before its first change joins when it asks for the turn (ADR 21):
 *   with no lane running it starts one holding it (no grant needed); an older one that joins after
 *   a newer run is superseded then, one that fails before never joins,
 *   and one whose change ServiceNow plans for later joins before it waits for the window;
 * - a lane whose last run has left starts its one-minute linger (it used to stay open for good).
 * The GitOps repository's lock, held by the test, keeps a run in its deploy step for as long as
 * the test needs (the worker's apply waits for it, heartbeating).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { withFileLock } from '../../activities/adapters/gitops/lock';
import { createTemporalDeployLanes } from '../../activities/adapters/temporal-runs/lanes';
import type { ChangeManagement } from '../../activities/ports/change-management';
import type { DeploymentStatusView } from '../../shared/contracts/deploy';
import type { Severity } from '../../shared/domain';
import { DEPLOY_LANE_WORKFLOW_TYPE, deployLaneId, laneJoinSignal, laneLeaveSignal, type DeployLaneInput } from '../../shared/contracts/deploy-lane';
import { DeployStatus } from '../../shared/search-attributes';
import { GitOpsRepo, serviceDir, trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { until } from '../helpers/until';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform();
});
after(async () => {
  await platform.stop();
});

interface Started {
  deploymentId: string;
  runId: string;
  digest: string;
}

/** Requests a deploy (on `options.on`, the suite's platform by default); staging gets a clean scan report, `findings` one with those. */
async function deploy(service: string, environment = 'dev', options: { on?: TestPlatform; findings?: Severity[] } = {}): Promise<Started> {
  const digest = uniqueDigest();
  const image = `registry.example.com/payments/${service}:1.0.0@${digest}`;
  const scanReport = options.findings ? trivyReport(image, options.findings) : environment === 'dev' ? undefined : trivyReport(image);
  const body = deploymentBody({ service, environment, image, route: { host: `${service}.payments.example.com`, path: '/' }, ...(scanReport ? { scanReport } : {}) });
  const started = await (options.on ?? platform).http('POST', '/v1/deployments', body);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const { deploymentId, runId } = started.body as { deploymentId: string; runId: string };
  return { deploymentId, runId, digest };
}

const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'cancelled', 'superseded', 'rejected', 'expired'];

async function ended(run: Started, timeoutMs = 120_000): Promise<DeploymentStatusView> {
  return platform.waitForStatus(run.deploymentId, TERMINAL as DeploymentStatusView['status'][], timeoutMs);
}

function deployedImage(service: string): string {
  const repo = new GitOpsRepo(platform.config.gitops.repoDir);
  const dir = serviceDir('payments-dev', service, 'app');
  const file = repo.files(dir).find((f) => /deployment/i.test(f));
  assert.ok(file, `no Deployment manifest under ${dir}`);
  return repo.show(file);
}

/** Holds the GitOps repository's lock until `release` is called: applies wait behind it. */
function holdGitOpsLock(): { held: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  let acquired = (): void => undefined;
  const held = new Promise<void>((resolve) => (acquired = resolve));
  const done = new Promise<void>((resolve) => (release = resolve));
  void withFileLock(join(platform.config.gitops.repoDir, '.git', 'deploy-platform.lock'), { timeoutMs: 10_000 }, async () => {
    acquired();
    await done;
  });
  return { held, release };
}

describe('one deploy at a time per service and environment', () => {
  it('when a newer request arrives while a run waits for approval, then the older run ends superseded and its change is cancelled', async () => {
    const older = await deploy('lane-approval', 'staging');
    const waiting = await platform.waitForStatus(older.deploymentId, 'awaiting_approval', 60_000);
    const newer = await deploy('lane-approval', 'staging');

    const view = await ended(older);
    assert.equal(view.status, 'superseded');
    assert.equal(view.supersededBy?.deploymentId, newer.deploymentId);
    assert.equal(view.supersededBy?.runId, newer.runId);
    assert.equal(view.error?.type, 'DeploymentSuperseded');
    assert.equal(view.change?.outcome, 'cancelled');
    const [change] = await platform.changesOfRun(older.runId);
    assert.equal(change?.number, waiting.change?.number);
    assert.equal(change?.state, '4', 'the simulator records a cancelled change as state 4 (canceled)');
    assert.match(change?.close_notes ?? '', /Superseded: .*Nothing was applied/);
    assert.ok(!view.steps.some((s) => s.name === 'deploy'), 'nothing was applied');

    const next = await platform.waitForStatus(newer.deploymentId, 'awaiting_approval', 60_000);
    const approved = await platform.simulator('approve', next.change!.number, 'ops.olga');
    assert.equal(approved.status, 200);
    assert.equal((await ended(newer)).status, 'succeeded');
  });

  it('when a run is ready while another run of the service changes the environment, then it is queued behind it, and a newer request supersedes the queued one', async () => {
    const first = await deploy('lane-queue');
    assert.equal((await ended(first)).status, 'succeeded'); // the repository exists from here on

    const lock = holdGitOpsLock();
    await lock.held;
    let released = false;
    try {
      const holder = await deploy('lane-queue');
      await until('the holder to be in its deploy step', async () => (await platform.deployments.snapshot(holder.deploymentId))?.view?.stage === 'deploy', { everyMs: 100 });
      const queued = await deploy('lane-queue');
      const view = await platform.waitForStatus(queued.deploymentId, 'queued', 60_000);
      assert.equal(view.stage, 'queue');
      assert.deepEqual(view.queuedBehind, { deploymentId: holder.deploymentId, runId: holder.runId });

      const newest = await deploy('lane-queue');
      const superseded = await ended(queued);
      assert.equal(superseded.status, 'superseded');
      assert.equal(superseded.supersededBy?.deploymentId, newest.deploymentId);
      assert.equal((await platform.waitForStatus(newest.deploymentId, 'queued', 60_000)).queuedBehind?.deploymentId, holder.deploymentId);

      lock.release();
      released = true;
      assert.equal((await ended(holder)).status, 'succeeded');
      const last = await ended(newest);
      assert.equal(last.status, 'succeeded');
      const queueStep = last.steps.find((s) => s.name === 'queue');
      assert.match(queueStep?.detail ?? '', new RegExp(`waited for ${holder.deploymentId.replace(/\./g, '\\.')}`));
      assert.match(deployedImage('lane-queue'), new RegExp(newest.digest));
    } finally {
      if (!released) lock.release();
    }
  });

  it('when ten deploys of one service are requested at once, then none fails or rolls back and the newest image is deployed', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => deploy('lane-burst')));
    const views = await Promise.all(runs.map((run) => ended(run, 180_000)));
    const statuses = views.map((v) => v.status);
    assert.deepEqual(statuses.filter((s) => s !== 'succeeded' && s !== 'superseded'), [], `statuses: ${statuses.join(', ')}`);
    assert.ok(views.every((v) => v.compensationErrors.length === 0));

    // "Newest" is the order Temporal started the runs in, which is the order of the requests' arrival.
    const startTimes = await Promise.all(runs.map(async (run) => (await platform.client.workflow.getHandle(run.deploymentId, run.runId).describe()).startTime.getTime()));
    const newestIndex = startTimes.reduce((best, time, i) => (time > startTimes[best]! || (time === startTimes[best] && runs[i]!.deploymentId > runs[best]!.deploymentId) ? i : best), 0);
    assert.equal(statuses[newestIndex], 'succeeded');
    assert.match(deployedImage('lane-burst'), new RegExp(runs[newestIndex]!.digest));
    console.log(`lanes: 10 concurrent deploys → ${statuses.filter((s) => s === 'succeeded').length} succeeded, ${statuses.filter((s) => s === 'superseded').length} superseded, 0 failed`);
  });

  it('when a run ends, succeeded or rejected, then it left its lane before its final status, the final status is recorded as the run closes, and every lane call was a local activity', async () => {
    const succeeded = await deploy('lane-end');
    assert.equal((await ended(succeeded)).status, 'succeeded');
    const rejected = await deploy('lane-end', 'staging');
    const waiting = await platform.waitForStatus(rejected.deploymentId, 'awaiting_approval', 60_000);
    assert.equal((await platform.simulator('reject', waiting.change!.number, 'bob.cab', 'not now')).body.webhook.status, 202);
    assert.equal((await ended(rejected)).status, 'rejected');

    const laneCallsOf = new Map([
      [succeeded, ['joinDeployLaneAndRequestTurn', 'leaveDeployLane']], // waited for nothing: joined when it asked (ADR 21)
      [rejected, ['joinDeployLane', 'leaveDeployLane']], // joined at its start, rejected before it was ready to deploy
    ]);
    for (const [run, expectedLaneCalls] of laneCallsOf) {
      const end = await endOfRun(run);
      assert.ok(end.leftAt >= 0 && end.finalStatusAt >= 0 && end.closedAt >= 0, JSON.stringify(end));
      assert.ok(end.leftAt < end.finalStatusAt, `left the lane (event ${end.leftAt}) before the final status (event ${end.finalStatusAt})`);
      assert.equal(end.taskBetween, false, `no workflow task between the final status (event ${end.finalStatusAt}) and the close (event ${end.closedAt})`);
      assert.deepEqual(end.laneCalls, expectedLaneCalls);
      assert.equal(end.laneTasksAndSignals, 0, 'no activity task or signal command for the lane');
    }
  });

  it('when no lane of the service runs, then a run that waits for nothing starts its lane holding it, and no grant is sent to it', async () => {
    const run = await deploy('lane-start-holding');
    assert.equal((await ended(run)).status, 'succeeded');
    const runEvents = (await platform.client.workflow.getHandle(run.deploymentId, run.runId).fetchHistory()).events ?? [];
    assert.deepEqual(runEvents.flatMap((e) => (e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : [])), [], 'no signal: no grant');

    const lane = platform.client.workflow.getHandle(deployLaneId({ project: 'payments', service: 'lane-start-holding', environment: 'dev' }, platform.config.temporal.taskQueue));
    const laneEvents = (await lane.fetchHistory()).events ?? [];
    const started = await decodeFromPayloadsAtIndex<DeployLaneInput>(platform.client.options.loadedDataConverter, 0, laneEvents[0]?.workflowExecutionStartedEventAttributes?.input?.payloads);
    assert.deepEqual(started.carried?.members.map((m) => [m.member.runId, m.phase]), [[run.runId, 'holding']], 'the lane started with the run holding it');
    const laneSignals = laneEvents.flatMap((e) => (e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : []));
    assert.deepEqual(laneSignals, [laneLeaveSignal.name], 'no join, no request: only the leave');

    // While it lingers, a second start of the same lane fails: only one run can start it holding.
    const lingering = (await lane.describe()).runId;
    const again = { workflowId: run.deploymentId, runId: 'another-run', startedAt: Date.now() };
    assert.equal(await createTemporalDeployLanes(platform.client).startHolding(lane.workflowId, platform.config.temporal.taskQueue, { project: 'payments', service: 'lane-start-holding', environment: 'dev' }, again), false);
    assert.equal((await lane.describe()).runId, lingering, 'the lingering lane is left as it was');
  });

  it('when a run that waits for nothing joins its lane after a newer run of the service did, then it is superseded at its join and nothing of it is applied', async () => {
    // A newer run than any this test starts (an hour ahead) joins and leaves, as a run that went
    // through before the older one was ready; the lane remembers it while it lingers.
    const service = 'lane-late-join';
    const laneId = deployLaneId({ project: 'payments', service, environment: 'dev' }, platform.config.temporal.taskQueue);
    const newer = { workflowId: `deploy.payments.${service}.dev.newer`, runId: 'a-newer-run', startedAt: Date.now() + 3_600_000 };
    const lane = await platform.client.workflow.signalWithStart(DEPLOY_LANE_WORKFLOW_TYPE, {
      workflowId: laneId,
      taskQueue: platform.config.temporal.taskQueue,
      args: [{ project: 'payments', service, environment: 'dev' }],
      signal: laneJoinSignal,
      signalArgs: [newer],
    });
    await lane.signal(laneLeaveSignal, { workflowId: newer.workflowId, runId: newer.runId });

    const older = await deploy(service);
    const view = await ended(older);
    assert.equal(view.status, 'superseded');
    assert.deepEqual(view.supersededBy, { deploymentId: newer.workflowId, runId: newer.runId });
    assert.equal(view.change?.outcome, 'cancelled');
    assert.ok(!view.steps.some((s) => s.name === 'deploy'), 'nothing was applied');
    assert.ok(view.steps.some((s) => s.name === 'openChange' && s.status === 'succeeded'), 'it prepared before it joined');
    assert.deepEqual((await endOfRun(older)).laneCalls, ['joinDeployLaneAndRequestTurn', 'leaveDeployLane']);
    await lane.terminate('test over');
  });

  it('when a run that waits for nothing fails before its first change, then it never joined its lane and no lane was started', async () => {
    const service = 'lane-never-joined';
    const run = await deploy(service, 'dev', { findings: ['CRITICAL'] });
    assert.equal((await ended(run)).status, 'failed');
    assert.deepEqual((await endOfRun(run)).laneCalls, [], 'no join, no leave');
    const laneId = deployLaneId({ project: 'payments', service, environment: 'dev' }, platform.config.temporal.taskQueue);
    await assert.rejects(platform.client.workflow.getHandle(laneId).describe(), /not found/i);
  });

  it('when the last run has left its lane, then the lane starts its one-minute linger and ends when it fires', async () => {
    const run = await deploy('lane-linger');
    assert.equal((await ended(run)).status, 'succeeded');
    const lane = platform.client.workflow.getHandle(deployLaneId({ project: 'payments', service: 'lane-linger', environment: 'dev' }, platform.config.temporal.taskQueue));
    let linger: { leftAt: number; timerAt: number; timeoutSeconds: number } | undefined;
    await until('the lane to start its linger timer after the leave', async () => {
      const events = (await lane.fetchHistory()).events ?? [];
      const lastIndex = (test: (e: (typeof events)[number]) => boolean): number => events.reduce((found, e, i) => (test(e) ? i : found), -1);
      const leftAt = lastIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === laneLeaveSignal.name);
      const timerAt = lastIndex((e) => !!e.timerStartedEventAttributes);
      if (leftAt < 0 || timerAt < leftAt) return false;
      linger = { leftAt, timerAt, timeoutSeconds: Number(events[timerAt]?.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0) };
      return true;
    }, { everyMs: 100 });
    assert.equal(linger?.timeoutSeconds, 60, JSON.stringify(linger));
    assert.equal((await lane.describe()).status.name, 'RUNNING', 'still open for a late joiner until the timer fires');
  });
});

describe('a run without approval whose change ServiceNow plans for later', () => {
  // The first change opened gets a planned window an hour ahead, as a ServiceNow business rule may
  // give a standard change; later ones get none.
  let windowed: TestPlatform;
  let opened = 0;
  const planned = (real: ChangeManagement): ChangeManagement => ({
    open: async (request) => {
      const change = await real.open(request);
      return opened++ === 0 ? { ...change, window: { start: new Date(Date.now() + 3_600_000).toISOString(), end: new Date(Date.now() + 7_200_000).toISOString() } } : change;
    },
    get: (sysId) => real.get(sysId),
    approvals: (sysId) => real.approvals(sysId),
    decidedSince: (since, page) => real.decidedSince(since, page),
    close: (request) => real.close(request),
  });
  before(async () => {
    windowed = await startTestPlatform({ ports: (real) => ({ changes: planned(real.changes) }) });
  });
  after(async () => {
    await windowed.stop();
  });

  it('when it waits for its window, then it joined its lane before waiting, and a newer request supersedes it there', async () => {
    const request = (): Promise<Started> => deploy('lane-windowed', 'dev', { on: windowed });
    const older = await request();
    assert.equal((await windowed.waitForStatus(older.deploymentId, 'waiting_for_window', 60_000)).stage, 'awaitWindow');
    const newer = await request();

    const view = await windowed.waitForStatus(older.deploymentId, TERMINAL as DeploymentStatusView['status'][], 60_000);
    assert.equal(view.status, 'superseded');
    assert.equal(view.supersededBy?.deploymentId, newer.deploymentId);
    assert.equal(view.change?.outcome, 'cancelled');
    assert.equal((await windowed.waitForStatus(newer.deploymentId, TERMINAL as DeploymentStatusView['status'][], 60_000)).status, 'succeeded');
    assert.deepEqual((await endOfRun(older, windowed)).laneCalls, ['joinDeployLane', 'leaveDeployLane'], 'joined when its change was open, before it waited');
    assert.deepEqual((await endOfRun(newer, windowed)).laneCalls, ['joinDeployLaneAndRequestTurn', 'leaveDeployLane']);
  });
});

/**
 * Where, in the run's history, it told its lane it left, recorded its final status, and closed;
 * and whether a workflow task came between the final status and the close (the window in which a
 * reader could see the final status on an open run).
 */
async function endOfRun(
  run: Started,
  on: TestPlatform = platform,
): Promise<{ leftAt: number; finalStatusAt: number; closedAt: number; taskBetween: boolean; laneCalls: string[]; laneTasksAndSignals: number }> {
  const events = (await on.client.workflow.getHandle(run.deploymentId, run.runId).fetchHistory()).events ?? [];
  const localActivities = events.map(localActivityType);
  const laneCalls = localActivities.filter((type): type is string => type !== undefined && /Lane/.test(type));
  const leftAt = localActivities.indexOf('leaveDeployLane');
  const laneTasksAndSignals = events.filter(
    (e) => /Lane/.test(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '') || e.signalExternalWorkflowExecutionInitiatedEventAttributes,
  ).length;
  let finalStatusAt = -1;
  events.forEach((e, i) => {
    const status = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[DeployStatus.name]?.data;
    if (status && TERMINAL.includes(JSON.parse(Buffer.from(status).toString('utf8')) as string)) finalStatusAt = i;
  });
  const closedAt = events.findIndex((e) => e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes);
  const taskBetween = events.slice(finalStatusAt + 1, closedAt).some((e) => e.workflowTaskScheduledEventAttributes);
  return { leftAt, finalStatusAt, closedAt, taskBetween, laneCalls, laneTasksAndSignals };
}

/** The activity type a local-activity marker records (core writes its data as plain JSON). */
function localActivityType(event: { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
}

