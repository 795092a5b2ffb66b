import { ApplicationFailure, CancellationScope, condition, isCancellation, log, patched, proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../activities/deploy';
import type { RunView } from '../../shared/contracts/run';
import type { ApprovalDecision } from '../../shared/domain';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';
import type { RunTracker } from './run-tracker';

/** Runs that began waiting before polling existed replay without it. */
const POLLING_PATCH = 'approval-polling';

/**
 * One read per attempt, retried until a decision or the deadline (the activity sets the delay to
 * the next read). Failures other than "pending" (ServiceNow down) back off up to two minutes.
 */
function poller(deadlineMs: number) {
  return proxyActivities<Pick<DeployActivities, 'awaitChangeDecision'>>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: deadlineMs + 60_000,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
    summary: 'fallback: poll the change for a decision',
  });
}

export type ApprovalOutcome = 'approved' | 'rejected' | 'expired';

/**
 * The wait for a change's approval. The signal handler (`receive`) accepts the first decision
 * for the run's own change while the run waits, and logs and ignores anything else. Meanwhile an
 * activity polls the change, so a webhook that never arrives does not leave the run waiting until
 * its deadline: whichever reports first decides, the other is cancelled or ignored.
 */
export class ApprovalGate<View extends RunView> {
  private received: ApprovalDecision | undefined;

  constructor(
    private readonly tracker: RunTracker<View>,
    /** The change this run opened, once it has one. */
    private readonly changeNumber: () => string | undefined,
  ) {}

  get decision(): ApprovalDecision | undefined {
    return this.received;
  }

  receive(signal: ApprovalDecision): void {
    const expected = this.changeNumber();
    if (this.tracker.status !== 'awaiting_approval' || !expected) {
      log.warn('approval ignored: the run is not waiting for approval', { changeNumber: signal.changeNumber, status: this.tracker.status });
    } else if (signal.changeNumber !== expected) {
      log.warn('approval ignored: it is for another change', { expected, received: signal.changeNumber });
    } else if (this.received) {
      log.warn('approval ignored: a decision was already taken', { decision: this.received.decision });
    } else {
      this.received = signal;
    }
  }

  /** Waits for the decision until the deadline; a timeout is an outcome, not an exception. */
  async wait(stage: View['stage'], deadlineMs: number): Promise<ApprovalOutcome> {
    const tracker = this.tracker;
    const deadline = new Date(Date.now() + deadlineMs).toISOString();
    tracker.patch((s) => (s.approval.deadline = deadline));
    tracker.setStatus('awaiting_approval');
    const record = tracker.begin(stage);
    tracker.enter(stage);
    const polling = new CancellationScope();
    const change = tracker.view().change;
    if (change && patched(POLLING_PATCH)) {
      polling
        .run(() => poller(deadlineMs).awaitChangeDecision({ sysId: change.sysId, changeNumber: change.number }))
        .then(
          (decision) => this.receive(decision),
          (error: unknown) => {
            if (!isCancellation(error)) log.warn('polling the change failed; waiting for the webhook', { change: change.number, error: String(error) });
          },
        );
    }
    const decided = await condition(() => this.received !== undefined, deadlineMs);
    polling.cancel();
    tracker.setStatus('running');
    const now = new Date().toISOString();
    if (!decided || !this.received) {
      tracker.patch((s) => Object.assign(s.approval, { decision: 'expired', decidedAt: now }));
      tracker.end(record, 'failed', `no decision before ${deadline}`);
      return 'expired';
    }
    const { decision: verdict, approver, comment, via = 'webhook' } = this.received;
    tracker.patch((s) => Object.assign(s.approval, { decision: verdict, approver, comment, decidedAt: now, via }));
    tracker.end(record, verdict === 'approved' ? 'succeeded' : 'failed', `${verdict} by ${approver}${comment ? `: ${comment}` : ''}`);
    return verdict;
  }
}

/**
 * Rejected or expired: nothing was applied. Closes the change as cancelled, ends the run with the
 * outcome and throws the typed failure (ADR 3).
 */
export async function endUnapproved<View extends RunView>(
  outcome: 'rejected' | 'expired',
  gate: ApprovalGate<View>,
  tracker: RunTracker<View>,
  deadlineMs: number,
  closeChange: (outcome: 'cancelled', notes: string) => Promise<void>,
): Promise<never> {
  const change = tracker.view().change?.number;
  const decision = gate.decision;
  const failure =
    outcome === 'rejected'
      ? ApplicationFailure.create({
          type: ErrorType.ApprovalRejected,
          nonRetryable: true,
          message: `change ${change} was rejected by ${decision?.approver ?? 'an approver'}${decision?.comment ? `: ${decision.comment}` : ''}`,
        })
      : ApplicationFailure.create({
          type: ErrorType.ApprovalExpired,
          nonRetryable: true,
          message: `change ${change} was not approved within ${Math.round(deadlineMs / 60_000)} minutes`,
        });
  tracker.recordError(failure);
  await CancellationScope.nonCancellable(() => closeChange('cancelled', `Not applied: ${failure.message}.`));
  tracker.finish(outcome);
  throw failure;
}

/**
 * The approval step of a run: waits for the decision when `approval.required`, or records why no
 * approval was needed. Rejected or expired: ends the run through `endUnapproved` (throws).
 */
export async function awaitApprovalIfRequired<View extends RunView>(
  gate: ApprovalGate<View>,
  tracker: RunTracker<View>,
  approval: { required: boolean; deadlineMs: number },
  skippedBecause: string,
  closeChange: (outcome: 'cancelled', notes: string) => Promise<void>,
): Promise<void> {
  if (!approval.required) {
    tracker.skip('awaitApproval' as View['stage'], skippedBecause);
    return;
  }
  const outcome = await gate.wait('awaitApproval' as View['stage'], approval.deadlineMs);
  if (outcome !== 'approved') await endUnapproved(outcome, gate, tracker, approval.deadlineMs, closeChange);
}
