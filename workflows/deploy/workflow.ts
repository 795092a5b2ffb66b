import { ActivityFailure, ApplicationFailure, CancellationScope, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChangeRequestActivities } from '../../activities/change-requests';
import type { ClusterChangeActivities } from '../../activities/cluster-changes';
import type { DeployActivities } from '../../activities/deploy';
import type { ApplyRequest, TargetLocation } from '../../activities/ports/cluster-target';
import {
  projectNamespace,
  statusQuery,
  type DeployInput,
  type DeployResult,
  type DeploymentStatusView,
} from '../../shared/contracts/deploy';
import type { ChangeRecord, ScanSummary } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import { changeOp, renderOp, scanOp, sideEffect, summarisedActivities, verifyOp } from '../shared/activity-options';
import { ApprovalGate, awaitApprovalIfRequired, listenForDecisions } from '../shared/approval-gate';
import { changeCloser, compensateAndRethrow } from '../shared/compensation';
import { RunTracker } from '../shared/run-tracker';
import { Saga } from '../shared/saga';
import { LaneMembership, type LaneProtocol } from './lane-membership';

/** Runs started since deploy lanes exist join theirs (ADR 15); older runs replay without. */
const LANES_PATCH = 'deploy-lanes';
/**
 * Runs started since this patch leave their lane before their final status is recorded, so a
 * final status means the run is closing (it used to leave after, and a re-POST or decommission
 * that read `succeeded` could still find the run open). Older runs replay in the old order.
 */
const LEAVE_BEFORE_FINAL_STATUS_PATCH = 'leave-lane-before-final-status';
/**
 * Runs started since this patch (ADR 19) talk to their lane with local activities, leave it
 * before their final status, and record the final stage and status in one upsert. It stands for
 * both patches above, so such a run records one patch marker (each costs a search-attribute upsert).
 */
const LEAN_RUN_PATCH = 'deploy-run-lean-2026-11';
/**
 * Runs started since this patch (ADR 21) write a search attribute only when it changes, a stage
 * and status in one upsert, the change number with the next one; and a run that waits for nothing
 * before its first change to the cluster joins its lane when it asks for the turn, in one local
 * activity. It stands for all the patches above.
 */
const FEWER_EVENTS_PATCH = 'deploy-run-fewer-events-2026-11';

interface RunShape {
  lane: LaneProtocol | undefined;
  finalStatusInOneUpsert: boolean;
  coalesceUpserts: boolean;
  /** May join the lane only when asking for the turn (if nothing is waited for before). */
  lateLaneJoin: boolean;
}

/** What this run does, as its history says (the newest patch first, so new runs record only it). */
function runShapeOf(): RunShape {
  if (patched(FEWER_EVENTS_PATCH)) return { lane: 'local', finalStatusInOneUpsert: true, coalesceUpserts: true, lateLaneJoin: true };
  if (patched(LEAN_RUN_PATCH)) return { lane: 'local', finalStatusInOneUpsert: true, coalesceUpserts: false, lateLaneJoin: false };
  return { lane: patched(LANES_PATCH) ? 'signals' : undefined, finalStatusInOneUpsert: false, coalesceUpserts: false, lateLaneJoin: false };
}

const scanning = proxyActivities<DeployActivities>({ ...scanOp, summary: 'judge the image scan against the environment policy' });
const rendering = proxyActivities<DeployActivities>({ ...renderOp, summary: 'wrap the image in a Helm chart and render it' });
const changes = summarisedActivities<DeployActivities & ChangeRequestActivities>(
  changeOp,
  { openChange: 'open the change request in ServiceNow', closeChange: 'close the change request in ServiceNow with the outcome' },
  'change request in ServiceNow',
);
const cluster = summarisedActivities<DeployActivities>(
  sideEffect,
  { deployRelease: 'deploy the workload: Deployment, Service, ServiceAccount', wireMesh: 'wire the mesh: VirtualService and DestinationRule' },
  'apply manifests to the cluster target',
);
const undo = proxyActivities<ClusterChangeActivities>({ ...sideEffect, summary: 'compensation: undo applied manifests' });
const verification = proxyActivities<DeployActivities>({ ...verifyOp, summary: 'verify the rollout' });

function scanSummaryOf(error: unknown): ScanSummary | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === ErrorType.ScanPolicyViolation) {
    return cause.details?.[0] as ScanSummary | undefined;
  }
  return undefined;
}

function newStatus(input: DeployInput, deploymentId: string): DeploymentStatusView {
  const { request, policy } = input;
  return {
    deploymentId,
    project: request.project,
    service: request.service,
    environment: request.environment,
    image: request.image.reference,
    requestedBy: request.requestedBy,
    status: 'running',
    stage: 'scan',
    startedAt: new Date().toISOString(),
    steps: [],
    approval: { required: policy.approval.required },
    revisions: {},
    compensationErrors: [],
  };
}

/**
 * Deploys one image of one service to one environment:
 * scan → render → openChange → awaitApproval → deploy → wireMesh → verify → closeChange.
 * Side effects after the change is opened are undone in reverse order on failure or cancellation.
 */
export async function deployWorkflow(input: DeployInput): Promise<DeployResult> {
  const { request, policy } = input;
  const { workflowId: deploymentId, runId } = workflowInfo();
  const shape = runShapeOf();
  const tracker = new RunTracker(newStatus(input, deploymentId), (s) => [
    `${s.service} → ${s.project}/${s.environment}, image \`${s.image}\``,
    ...(s.revisions.deploy ? [`Revision ${s.revisions.deploy.slice(0, 12)}${s.revisions.mesh ? `, mesh ${s.revisions.mesh.slice(0, 12)}` : ''}`] : []),
    ...(input.links ? [`[Status in the platform API](${input.links.apiUrl}/v1/deployments/${deploymentId})`] : []),
  ], { finalStatusInOneUpsert: shape.finalStatusInOneUpsert, coalesceUpserts: shape.coalesceUpserts });
  let change: ChangeRecord | undefined;
  const gate = new ApprovalGate(tracker, () => change?.number, () => ({
    rules: policy.approval.approvers,
    requesters: [request.requester, request.requestedBy],
  }));

  setHandler(statusQuery, () => tracker.view());
  listenForDecisions(gate);

  const namespace = projectNamespace(request.project, request.environment);
  const saga = new Saga();
  const titles = {
    deploy: `Deploy ${request.service} ${request.image.digest.slice(0, 19)} to ${namespace}`,
    wireMesh: `Route ${request.route.host}${request.route.path} to ${request.service} in ${namespace}`,
  };
  const audit = (step: keyof typeof titles): ApplyRequest['audit'] => ({ title: titles[step], deploymentId, runId, changeNumber: change?.number });
  const location = (component: 'app' | 'mesh'): TargetLocation => ({ cluster: policy.cluster, namespace, service: request.service, component });
  const idempotencyKey = (step: string): string => `${deploymentId}/${runId}/${step}`;
  const closeChange = changeCloser(tracker, (request) => changes.closeChange(request));
  /** Scans the image against the policy and keeps the summary on the status, also when it fails the policy. */
  const judgeImage = async (stage: 'scan' | 'rescan', detail: (summary: ScanSummary) => string): Promise<ScanSummary> => {
    const record = (summary: ScanSummary) => tracker.patch((s) => (s[stage] = { ...summary, scannedAt: new Date().toISOString() }));
    const summary = await tracker.step(stage, () => scanning.scanImage(input), detail).catch((error: unknown) => {
      // A policy violation carries the scan summary: keep it on the status for the people fixing it.
      const violation = scanSummaryOf(error);
      if (violation) record(violation);
      throw error;
    });
    record(summary);
    return summary;
  };

  const lane = shape.lane ? new LaneMembership(request, tracker, shape.lane) : undefined;
  /**
   * A run that waits for nothing before its first change (no approval, no change window) joins
   * its lane when it asks for the turn (ADR 21): one local activity and one workflow task of the
   * lane fewer. A newer run that joins meanwhile still wins, as the lane supersedes older late
   * joiners. A run that waits (approval, window) joins first, so a newer run can supersede it while it waits.
   */
  const joinsLate = shape.lateLaneJoin && !policy.approval.required && policy.approval.windowMs === undefined;
  if (lane) {
    tracker.beforeFinalStatus(async () => {
      if (shape.lane === 'local' || patched(LEAVE_BEFORE_FINAL_STATUS_PATCH)) await lane.leave();
    });
  }
  /** Before the first change to the cluster, a newer request for the service may stop the run. */
  const beforeChanging = <T>(work: () => Promise<T>): Promise<T> => (lane ? lane.untilSuperseded(work) : work());

  /** Scan, render, open the change, wait for approval and the window: nothing is applied yet. */
  const prepare = async () => {
    const scan = await judgeImage('scan', (s) => s.note ?? `${s.blockingFindings} blocking findings`);
    const scannedAt = Date.now();

    const release = await tracker.step(
      'render',
      () => rendering.renderRelease({ request, namespace, deploymentId }),
      (r) => `chart ${r.chart.name}-${r.chart.version}, ${r.manifests.length} manifests, sha256 ${r.contentHash.slice(0, 12)}`,
    );
    const chart = `${release.chart.name}-${release.chart.version}`;
    tracker.patch((s) => {
      s.release = { chart, contentHash: release.contentHash, namespace: release.namespace, pinnedImage: release.pinnedImage };
    });

    const opening = () =>
      changes.openChange({
        correlationId: runId,
        deploymentId,
        request,
        approvalRequired: policy.approval.required,
        // What the change describes, not the rendered manifests and chart files (about 8 KiB of history).
        release: { contentHash: release.contentHash, namespace: release.namespace, pinnedImage: release.pinnedImage, chart },
        scan,
        ...(policy.approval.windowMs ? { window: { start: new Date().toISOString(), end: new Date(Date.now() + policy.approval.windowMs).toISOString() } } : {}),
      });
    // A newer request must not cut the open short: the change would exist with the run unaware of it.
    change = await tracker.step('openChange', () => (lane ? CancellationScope.nonCancellable(opening) : opening()), (c) => c.number);
    tracker.recordChange(change);
    // ServiceNow may plan the change for later: a run that will wait for its window joins before it waits.
    if (lane && joinsLate && change.window) await lane.joinBeforeWaiting();

    await awaitApprovalIfRequired(gate, tracker, policy.approval, `not required in ${policy.name}: standard change ${change.number}`, closeChange);

    // A scan older than the environment allows (a late approval) is repeated before anything is applied.
    const maxAgeMs = policy.scan.maxAgeMs;
    if (maxAgeMs !== undefined && Date.now() - scannedAt > maxAgeMs) {
      const age = Math.round((Date.now() - scannedAt) / 1000);
      await judgeImage('rescan', (r) => `scan was ${age}s old (limit ${Math.round(maxAgeMs / 1000)}s): ${r.blockingFindings} blocking findings`);
    }
    return { release };
  };

  try {
    if (!joinsLate) await lane?.join();
    const { release } = await beforeChanging(() => prepare());
    await lane?.acquire();

    const chartFiles = Object.fromEntries(
      Object.entries(release.chart.files).map(([path, content]) => [`charts/${request.project}/${request.service}/${release.chart.version}/${path}`, content]),
    );
    /** Registers the step's undo first (see ADR 1), then applies its share of the manifests. */
    const applyStep = async (step: 'deploy' | 'wireMesh', extraFiles?: Record<string, string>) => {
      const component = step === 'deploy' ? 'app' : 'mesh';
      saga.add(step, () => undo.rollbackManifests({ idempotencyKey: idempotencyKey(step), audit: audit(step), location: location(component) }));
      const applied: ApplyRequest = {
        idempotencyKey: idempotencyKey(step),
        location: location(component),
        manifests: release.manifests.filter((m) => m.component === component),
        audit: audit(step),
        ...(extraFiles ? { extraFiles } : {}),
      };
      const result = await tracker.step(
        step,
        () => (step === 'deploy' ? cluster.deployRelease(applied) : cluster.wireMesh(applied)),
        (r) => `revision ${r.revision.slice(0, 12)}${r.changed ? '' : ' (already in place)'}`,
      );
      tracker.patch((s) => (s.revisions[component === 'app' ? 'deploy' : 'mesh'] = result.revision));
      // Runs started before the policy had a rollout timeout leave it to the target's default.
      return { location: applied.location, manifests: applied.manifests, revision: result.revision, ...(policy.rollout ? { timeoutMs: policy.rollout.timeoutMs } : {}) };
    };
    const deployed = await applyStep('deploy', chartFiles);
    const meshed = await applyStep('wireMesh');

    await tracker.step('verify', () => verification.verifyRollout([deployed, meshed]), (detail) => detail);

    await closeChange('successful', `Deployed ${release.pinnedImage} to ${namespace} (revision ${meshed.revision}).`);
    await tracker.conclude('succeeded');
    return tracker.view();
  } catch (error) {
    return await compensateAndRethrow(error, { tracker, saga, closeChange });
  } finally {
    await lane?.leave(); // nothing to do when the run already left before its final status
  }
}
