import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { DeployActivities } from '../../activities/deploy';
import type { ApplyRequest, TargetLocation } from '../../activities/ports/cluster-target';
import {
  approvalSignal,
  projectNamespace,
  statusQuery,
  type DeployInput,
  type DeployResult,
} from '../../shared/contracts/deploy';
import type { ApprovalDecision, ChangeOutcome, ChangeRecord, RenderedRelease, ScanSummary } from '../../shared/domain';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';
import { Saga } from './saga';
import { DeploymentTracker, describeFailure } from './tracker';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Pure computation on the worker (scan judgement, chart rendering): quick, few retries. */
const fastStep: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** Calls to the change-management system: an outage is waited out, a refusal is final. */
const changeOp: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
};

/**
 * Writes to the cluster target. WAIT_CANCELLATION_COMPLETED: when the run is cancelled mid-apply,
 * compensation must not start until the apply has really stopped, or it could undo nothing and
 * then watch the apply land.
 */
const clusterOp: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
};

const verifyOp: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes },
};

const scanning = proxyActivities<DeployActivities>({ ...fastStep, summary: 'judge the image scan against the environment policy' });
const rendering = proxyActivities<DeployActivities>({ ...fastStep, summary: 'wrap the image in a Helm chart and render it' });
const changes = proxyActivities<DeployActivities>({ ...changeOp, summary: 'change request in ServiceNow' });
const cluster = proxyActivities<DeployActivities>({ ...clusterOp, summary: 'apply manifests to the cluster target' });
const undo = proxyActivities<DeployActivities>({ ...clusterOp, summary: 'compensation: undo applied manifests' });
const verification = proxyActivities<DeployActivities>({ ...verifyOp, summary: 'verify the rollout' });

function scanSummaryOf(error: unknown): ScanSummary | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === ErrorType.ScanPolicyViolation) {
    return cause.details?.[0] as ScanSummary | undefined;
  }
  return undefined;
}

/**
 * Deploys one image of one service to one environment:
 * scan → render → openChange → awaitApproval → deploy → wireMesh → verify → closeChange.
 * Side effects after the change is opened are undone in reverse order on failure or cancellation.
 */
export async function deployWorkflow(input: DeployInput): Promise<DeployResult> {
  const { request, policy } = input;
  const { workflowId: deploymentId, runId } = workflowInfo();
  const tracker = new DeploymentTracker(input, deploymentId);
  let decision: ApprovalDecision | undefined;
  let change: ChangeRecord | undefined;

  setHandler(statusQuery, () => tracker.view());
  setHandler(approvalSignal, (signal) => {
    if (tracker.status !== 'awaiting_approval' || !change) {
      log.warn('approval ignored: the run is not waiting for approval', { changeNumber: signal.changeNumber, status: tracker.status });
    } else if (signal.changeNumber !== change.number) {
      log.warn('approval ignored: it is for another change', { expected: change.number, received: signal.changeNumber });
    } else if (decision) {
      log.warn('approval ignored: a decision was already taken', { decision: decision.decision });
    } else {
      decision = signal;
    }
  });

  const namespace = projectNamespace(request.project, request.environment);
  const saga = new Saga();
  const titles = {
    deploy: `Deploy ${request.service} ${request.image.digest.slice(0, 19)} to ${namespace}`,
    wireMesh: `Route ${request.route.host}${request.route.path} to ${request.service} in ${namespace}`,
  };
  const audit = (step: keyof typeof titles): ApplyRequest['audit'] => ({
    title: titles[step],
    deploymentId,
    runId,
    changeNumber: change?.number,
  });
  const location = (component: TargetLocation['component']): TargetLocation => ({
    cluster: policy.cluster,
    namespace,
    service: request.service,
    component,
  });
  const idempotencyKey = (step: string): string => `${deploymentId}/${runId}/${step}`;
  const closeChange = async (outcome: ChangeOutcome, notes: string): Promise<void> => {
    if (!change) return;
    const sysId = change.sysId;
    await tracker.step('closeChange', () => changes.closeChange({ sysId, outcome, notes }), () => outcome);
    tracker.recordChangeOutcome(outcome);
  };

  try {
    const scan = await tracker
      .step('scan', () => scanning.scanImage(input), (s) => s.note ?? `${s.blockingFindings} blocking findings`)
      .catch((error: unknown) => {
        // A policy violation carries the scan summary: keep it on the status for the people fixing it.
        const summary = scanSummaryOf(error);
        if (summary) tracker.patch((s) => (s.scan = summary));
        throw error;
      });
    tracker.patch((s) => (s.scan = scan));

    const release: RenderedRelease = await tracker.step(
      'render',
      () => rendering.renderRelease({ request, namespace, deploymentId }),
      (r) => `chart ${r.chart.name}-${r.chart.version}, ${r.manifests.length} manifests, sha256 ${r.contentHash.slice(0, 12)}`,
    );
    tracker.patch((s) => {
      s.release = {
        chart: `${release.chart.name}-${release.chart.version}`,
        contentHash: release.contentHash,
        namespace: release.namespace,
        pinnedImage: release.pinnedImage,
      };
    });

    change = await tracker.step(
      'openChange',
      () =>
        changes.openChange({
          correlationId: runId,
          deploymentId,
          request,
          approvalRequired: policy.approval.required,
          release: { ...release, chart: `${release.chart.name}-${release.chart.version}` },
          scan,
        }),
      (c) => c.number,
    );
    tracker.recordChange(change);

    if (policy.approval.required) {
      const outcome = await awaitApproval();
      if (outcome !== 'approved') return await endWithoutDeploying(outcome);
    } else {
      tracker.skip('awaitApproval', `not required in ${policy.name}: standard change ${change.number}`);
    }

    const chartFiles = Object.fromEntries(
      Object.entries(release.chart.files).map(([path, content]) => [
        `charts/${request.project}/${request.service}/${release.chart.version}/${path}`,
        content,
      ]),
    );
    /** Registers the step's undo first (see ADR 1), then applies its share of the manifests. */
    const applyStep = async (step: 'deploy' | 'wireMesh', extraFiles?: Record<string, string>) => {
      const component = step === 'deploy' ? 'app' : 'mesh';
      saga.add(step, () => undo.rollbackManifests({ idempotencyKey: idempotencyKey(step), audit: audit(step) }));
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
      return { location: applied.location, manifests: applied.manifests, revision: result.revision };
    };
    const deployed = await applyStep('deploy', chartFiles);
    const meshed = await applyStep('wireMesh');

    await tracker.step('verify', () => verification.verifyRollout([deployed, meshed]), (detail) => detail);

    await closeChange('successful', `Deployed ${release.pinnedImage} to ${namespace} (revision ${meshed.revision}).`);
    tracker.finish('succeeded');
    return tracker.view();
  } catch (error) {
    return await compensateAndRethrow(error);
  }

  /** Waits for the approval signal until the policy's deadline; a timeout is an outcome. */
  async function awaitApproval(): Promise<'approved' | 'rejected' | 'expired'> {
    const deadline = new Date(Date.now() + policy.approval.deadlineMs).toISOString();
    tracker.patch((s) => (s.approval.deadline = deadline));
    tracker.setStatus('awaiting_approval');
    const record = tracker.begin('awaitApproval');
    tracker.enter('awaitApproval');
    const decided = await condition(() => decision !== undefined, policy.approval.deadlineMs);
    tracker.setStatus('running');
    const now = new Date().toISOString();
    if (!decided || !decision) {
      tracker.patch((s) => Object.assign(s.approval, { decision: 'expired', decidedAt: now }));
      tracker.end(record, 'failed', `no decision before ${deadline}`);
      return 'expired';
    }
    const { decision: verdict, approver, comment } = decision;
    tracker.patch((s) => Object.assign(s.approval, { decision: verdict, approver, comment, decidedAt: now }));
    tracker.end(record, verdict === 'approved' ? 'succeeded' : 'failed', `${verdict} by ${approver}${comment ? `: ${comment}` : ''}`);
    return verdict;
  }

  /** Rejected or expired: nothing was deployed; close the change and end with a typed failure. */
  async function endWithoutDeploying(outcome: 'rejected' | 'expired'): Promise<never> {
    const failure =
      outcome === 'rejected'
        ? ApplicationFailure.create({
            type: ErrorType.ApprovalRejected,
            nonRetryable: true,
            message: `change ${change?.number} was rejected by ${decision?.approver ?? 'an approver'}${decision?.comment ? `: ${decision.comment}` : ''}`,
          })
        : ApplicationFailure.create({
            type: ErrorType.ApprovalExpired,
            nonRetryable: true,
            message: `change ${change?.number} was not approved within ${Math.round(policy.approval.deadlineMs / 60_000)} minutes`,
          });
    tracker.recordError(failure);
    await CancellationScope.nonCancellable(() => closeChange('cancelled', `Not deployed: ${failure.message}.`));
    tracker.finish(outcome);
    throw failure;
  }

  /** Undo what was done, close the change with the outcome, keep the original error. */
  async function compensateAndRethrow(error: unknown): Promise<never> {
    if (['rejected', 'expired'].includes(tracker.status)) throw error;
    const cancelled = isCancellation(error);
    tracker.recordError(error);
    const hadSideEffects = !saga.isEmpty;
    await CancellationScope.nonCancellable(async () => {
      if (hadSideEffects) {
        tracker.enter('compensate');
        const running = new Map<string, ReturnType<DeploymentTracker['begin']>>();
        const failures = await saga.compensate({
          onStart: (step) => running.set(step, tracker.begin(`undo:${step}`)),
          onDone: (step, failure) => {
            const record = running.get(step);
            if (record) tracker.end(record, failure ? 'failed' : 'succeeded', failure ? describeFailure(failure).message : undefined);
          },
        });
        tracker.patch((s) => {
          s.compensationErrors = failures.map((f) => ({ step: f.step, message: describeFailure(f.error).message }));
        });
      }
      const reason = describeFailure(error);
      try {
        await closeChange(
          hadSideEffects ? 'unsuccessful' : 'cancelled',
          `${cancelled ? 'Cancelled' : `Failed: ${reason.type}: ${reason.message}`}.${hadSideEffects ? ' Applied changes were rolled back.' : ' Nothing was deployed.'}`,
        );
      } catch (closeError) {
        log.error('could not close the change after a failure', { error: String(closeError) });
        tracker.patch((s) => s.compensationErrors.push({ step: 'closeChange', message: describeFailure(closeError).message }));
      }
    });
    const clean = tracker.view().compensationErrors.length === 0;
    tracker.finish(cancelled ? 'cancelled' : hadSideEffects && clean ? 'rolled_back' : 'failed');
    throw error;
  }
}
