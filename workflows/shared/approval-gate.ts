import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { ChangeRequestActivities, ChangeVerdictRequest } from '../../activities/change-requests';
import {
  approvalSignal,
  approvalUpdate,
  changeUpdatedSignal,
  DecisionRejection,
  type ChangeUpdate,
  type DecisionAnswer,
  type DecisionChannel,
  type RunView,
} from '../../shared/contracts/run';
import type { ApprovalDecision, ApproverRules, ChangeReading, ChangeWindow } from '../../shared/domain';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';
import { changeOp } from './activity-options';
import type { RunTracker } from './run-tracker';

/** Runs that began waiting before polling existed replay without it. */
const POLLING_PATCH = 'approval-polling';
/** Runs that began waiting before decisions were verified in ServiceNow replay the old way. */
const VERIFIED_PATCH = 'approval-verified';
/**
 * Runs that began waiting before the approval sweeper existed poll their own change; newer runs
 * schedule nothing while they wait and read the change when the sweeper prompts them (ADR 16).
 */
const SWEEP_PATCH = 'approval-sweep';

/** Same approval policy as a run without approver rules had: one approver, any group. */
const DEFAULT_RULES: ApproverRules = { groups: [], quorum: 1 };
const MAX_QUEUED_CLAIMS = 10;
const MAX_REFUSALS_KEPT = 20;

/**
 * One read per attempt, retried until a decision or the deadline (the activity sets the delay to
 * the next read). Failures other than "pending" (ServiceNow down) back off up to two minutes.
 */
function poller(deadlineMs: number) {
  return proxyActivities<Pick<ChangeRequestActivities, 'awaitChangeDecision' | 'pollChangeVerdict'>>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: deadlineMs + 60_000,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
    summary: 'fallback: poll the change for a decision',
  });
}

/** Reads the change once for a reported decision; a ServiceNow outage longer than this refuses the report. */
const verifier = proxyActivities<Pick<ChangeRequestActivities, 'readChangeVerdict'>>({
  ...changeOp,
  scheduleToCloseTimeout: '5m',
  summary: 'read the reported decision in ServiceNow',
});

export type ApprovalOutcome = 'approved' | 'rejected' | 'expired';

/** Who may approve this run's change, and who may not (the requester). */
export interface DecisionContext {
  rules?: ApproverRules;
  /** The authenticated requester and whoever `requestedBy` names. */
  requesters: (string | undefined)[];
}

interface Claim {
  decision: ApprovalDecision;
  via: Exclude<DecisionChannel, 'poll' | 'webhook'>;
  answer?: DecisionAnswer;
}

interface Accepted {
  decision: ApprovalDecision['decision'];
  approver: string;
  approvers?: string[];
  comment?: string;
  via: DecisionChannel;
  deliveryId?: string;
}

const sameName = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
const toMs = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/**
 * The wait for a change's approval. ServiceNow is the source of truth: a decision reported by any
 * channel (the API's update for a verified webhook, a signal or update sent from the Temporal UI
 * or CLI) is only a prompt to read the change in ServiceNow, and the run acts on what it reads
 * there, judged against the approver rules (quorum, groups, not the requester). Meanwhile an
 * activity polls the change, so a webhook that never arrives does not leave the run waiting
 * until its deadline. Reports that ServiceNow does not confirm are recorded as refused, with the
 * channel they really came by, and the run keeps waiting.
 */
export class ApprovalGate<View extends RunView> {
  private accepted: Accepted | undefined;
  private readonly claims: Claim[] = [];
  private readonly answers = new Map<string, DecisionAnswer>();
  /** Whether this run verifies reports (false while replaying a run from before verification). */
  private verifying = false;
  /** The sweeper saw a decision on the change; read it once the current check (if any) is done. */
  private prompted = false;

  constructor(
    private readonly tracker: RunTracker<View>,
    /** The change this run opened, once it has one. */
    private readonly changeNumber: () => string | undefined,
    private readonly context: () => DecisionContext = () => ({ requesters: [] }),
  ) {}

  get decision(): Accepted | undefined {
    return this.accepted;
  }

  /** The update's validator: synchronous, and nothing it refuses reaches the run's history. */
  validate(decision: ApprovalDecision): void {
    const invalid = (message: string) => ApplicationFailure.create({ type: DecisionRejection.Invalid, nonRetryable: true, message });
    const notAwaited = (message: string) => ApplicationFailure.create({ type: DecisionRejection.NotAwaited, nonRetryable: true, message });
    if (!decision || (decision.decision !== 'approved' && decision.decision !== 'rejected')) throw invalid('decision must be "approved" or "rejected"');
    if (typeof decision.approver !== 'string' || !decision.approver.trim() || decision.approver.length > 200) throw invalid('approver must be a name of 1 to 200 characters');
    const expected = this.changeNumber();
    if (typeof decision.changeNumber !== 'string' || (expected && decision.changeNumber !== expected)) {
      throw invalid(`the decision is for change ${String(decision.changeNumber)}, but this run opened ${expected ?? 'no change yet'}`);
    }
    if (decision.eventId && this.answers.has(decision.eventId)) return; // a redelivery: answered again
    if (this.accepted) {
      if (this.accepted.decision === decision.decision) return; // the same decision again: a duplicate
      throw notAwaited(`change ${expected} was already ${this.accepted.decision}`);
    }
    if (this.tracker.status !== 'awaiting_approval' || !expected) throw notAwaited(`the run is not waiting for approval (status ${this.tracker.status})`);
    if (this.claims.length >= MAX_QUEUED_CLAIMS) throw notAwaited('too many reported decisions are waiting to be checked; try again shortly');
  }

  /** The update's handler: queues the report and answers once ServiceNow has been read. */
  async decide(decision: ApprovalDecision): Promise<DecisionAnswer> {
    const earlier = decision.eventId ? this.answers.get(decision.eventId) : undefined;
    if (earlier) return earlier.outcome === 'applied' ? { ...earlier, outcome: 'duplicate' } : earlier;
    if (this.accepted?.decision === decision.decision) {
      return { outcome: 'duplicate', changeNumber: decision.changeNumber, decision: this.accepted.decision };
    }
    const claim: Claim = { decision, via: 'update' };
    this.claims.push(claim);
    await condition(() => claim.answer !== undefined);
    return claim.answer as DecisionAnswer;
  }

  /** The signal handler: a report like any other, checked in ServiceNow before anything happens. */
  receive(decision: ApprovalDecision): void {
    const expected = this.changeNumber();
    if (this.tracker.status !== 'awaiting_approval' || !expected) {
      log.warn('reported decision ignored: the run is not waiting for approval', { status: this.tracker.status });
    } else if (decision?.changeNumber !== expected) {
      log.warn('reported decision ignored: it is for another change', { expected });
    } else if (this.accepted) {
      log.warn('reported decision ignored: a decision was already taken', { decision: this.accepted.decision });
    } else if (!(this.verifying || (this.verifying = patched(VERIFIED_PATCH)))) {
      // Replaying a run from before verification: it acted on the signal as it arrived then.
      this.accepted = { decision: decision.decision, approver: decision.approver, comment: decision.comment, via: decision.via ?? 'webhook' };
    } else if (decision.eventId && this.answers.has(decision.eventId)) {
      log.info('reported decision ignored: this delivery was already answered', { change: expected });
    } else if (this.claims.length >= MAX_QUEUED_CLAIMS) {
      log.warn('reported decision dropped: too many are waiting to be checked', { change: expected });
    } else {
      this.claims.push({ decision, via: 'signal' });
    }
  }

  /** The sweeper's prompt: read the change at the next opportunity (several prompts make one read). */
  prompt(update: ChangeUpdate): void {
    const expected = this.changeNumber();
    if (this.tracker.status !== 'awaiting_approval' || !expected || update?.changeNumber !== expected || this.accepted || !this.verifying) return;
    this.prompted = true;
  }

  /** Waits for a decision ServiceNow confirms, until the deadline or the change window's end. */
  async wait(stage: View['stage'], deadlineMs: number): Promise<ApprovalOutcome> {
    const tracker = this.tracker;
    const deadlineAt = Date.now() + deadlineMs;
    const deadline = new Date(deadlineAt).toISOString();
    tracker.patch((s) => (s.approval.deadline = deadline));
    const record = tracker.begin(stage);
    tracker.enter(stage, 'awaiting_approval');
    const change = tracker.view().change;
    this.verifying = patched(VERIFIED_PATCH);
    const polling = new CancellationScope();
    if (change) this.startPolling(polling, change, deadlineMs);

    let expiredBecause: string | undefined;
    try {
      expiredBecause = await this.awaitDecision(deadlineAt, deadline);
    } catch (error) {
      if (isCancellation(error)) tracker.end(record, 'cancelled', 'interrupted: the run was cancelled');
      throw error;
    }
    polling.cancel();
    for (const claim of this.claims.splice(0)) this.answerLate(claim, expiredBecause);

    tracker.setStatus('running');
    const now = new Date().toISOString();
    if (!this.accepted) {
      tracker.patch((s) => Object.assign(s.approval, { decision: 'expired', decidedAt: now, expiredBecause }));
      tracker.end(record, 'failed', expiredBecause);
      return 'expired';
    }
    const { decision: verdict, approver, approvers, comment, via, deliveryId } = this.accepted;
    tracker.patch((s) => Object.assign(s.approval, { decision: verdict, approver, comment, decidedAt: now, via, ...(approvers ? { approvers } : {}), ...(deliveryId ? { deliveryId } : {}) }));
    tracker.end(record, verdict === 'approved' ? 'succeeded' : 'failed', `${verdict} in ServiceNow (${approvers?.length ?? 1} approver${approvers?.length === 1 || !approvers ? '' : 's'}, via ${via})`);
    return verdict;
  }

  /** Checks reported decisions one by one until one is accepted; the reason when the wait ends without. */
  private async awaitDecision(deadlineAt: number, deadline: string): Promise<string | undefined> {
    while (!this.accepted) {
      const windowEnd = toMs(this.tracker.view().approval.window?.end);
      const until = windowEnd !== undefined ? Math.min(deadlineAt, windowEnd) : deadlineAt;
      const left = until - Date.now();
      const summary = until === deadlineAt ? 'approval deadline' : 'end of the change window (no approval yet)';
      if (left <= 0 || !(await condition(() => this.accepted !== undefined || this.claims.length > 0 || this.prompted, left, { summary }))) {
        return until === deadlineAt ? `no decision before ${deadline}` : `the change window closed at ${new Date(until).toISOString()} before a decision`;
      }
      if (this.accepted) break; // the poller decided meanwhile; queued reports are answered by the caller
      const claim = this.claims.shift();
      if (claim) await this.check(claim);
      else if (this.prompted) await this.readPrompted();
    }
    return undefined;
  }

  /**
   * After approval: the deploy may only start inside the change's planned window. Waits on a
   * durable timer for the window to open; 'expired' when it has already closed.
   */
  async awaitWindow(stage: View['stage']): Promise<{ expiredBecause: string } | undefined> {
    const window = this.tracker.view().approval.window;
    const start = toMs(window?.start);
    const end = toMs(window?.end);
    if (end !== undefined && Date.now() >= end) return { expiredBecause: `the change window closed at ${window?.end}` };
    if (start === undefined || Date.now() >= start) return undefined;
    this.tracker.setStatus('waiting_for_window');
    await this.tracker.step(stage, () => sleep(start - Date.now(), { summary: 'wait for the change window to open' }), () => `window opened at ${window?.start}`);
    this.tracker.setStatus('running');
    if (end !== undefined && Date.now() >= end) return { expiredBecause: `the change window closed at ${window?.end}` };
    return undefined;
  }

  /** Records the change's planned window (from opening it, or a later reading). */
  noteWindow(window: ChangeWindow | undefined): void {
    if (window && (window.start || window.end)) this.tracker.patch((s) => (s.approval.window = window));
  }

  private request(change: { sysId: string; number: string }): ChangeVerdictRequest {
    const { rules, requesters } = this.context();
    return { sysId: change.sysId, changeNumber: change.number, rules: rules ?? DEFAULT_RULES, requesters: requesters.filter((r): r is string => !!r) };
  }

  private startPolling(scope: CancellationScope, change: { sysId: string; number: string }, deadlineMs: number): void {
    const onError = (error: unknown) => {
      if (!isCancellation(error)) log.warn('polling the change failed; waiting for the webhook', { change: change.number, error: String(error) });
    };
    if (this.verifying && patched(SWEEP_PATCH)) {
      return; // the approval sweeper prompts this run when ServiceNow records a decision
    } else if (this.verifying) {
      scope.run(() => poller(deadlineMs).pollChangeVerdict(this.request(change))).then((reading) => this.apply(reading), onError);
    } else if (patched(POLLING_PATCH)) {
      // A run from before verification polls as it did then; what it reads comes from ServiceNow.
      scope
        .run(() => poller(deadlineMs).awaitChangeDecision({ sysId: change.sysId, changeNumber: change.number }))
        .then((d) => (this.accepted ??= { decision: d.decision, approver: d.approver, comment: d.comment, via: 'poll' }), onError);
    }
  }

  /** Reads the change after the sweeper's prompt; a failed read waits for the next prompt or a webhook. */
  private async readPrompted(): Promise<void> {
    this.prompted = false;
    const change = this.tracker.view().change;
    if (!change) return;
    try {
      this.apply(await verifier.readChangeVerdict(this.request(change)));
    } catch (error) {
      log.warn('reading the change after a prompt failed; the sweeper prompts again', { change: change.number, error: String(error) });
    }
  }

  /** Reads the change for one report and acts on what ServiceNow records, whatever the report said. */
  private async check(claim: Claim): Promise<void> {
    const change = this.tracker.view().change;
    if (!change) return this.refuse(claim, 'the run has no change yet');
    let reading: ChangeReading;
    try {
      reading = await verifier.readChangeVerdict(this.request(change));
    } catch (error) {
      return this.refuse(claim, `ServiceNow could not be read to confirm it (${String(error)}); polling continues`);
    }
    this.apply(reading, claim);
  }

  private apply(reading: ChangeReading, claim?: Claim): void {
    this.noteWindow(reading.window);
    const { verdict } = reading;
    if (verdict.kind !== 'approved' && verdict.kind !== 'rejected') {
      if (claim) this.refuse(claim, verdict.detail);
      return;
    }
    const recorded = verdict.kind === 'approved' ? verdict.approvers : verdict.rejectedBy;
    const reported = claim?.decision;
    const confirmed = reported !== undefined && reported.decision === verdict.kind && recorded.some((name) => sameName(name, reported.approver));
    if (this.accepted) return;
    this.accepted = {
      decision: verdict.kind,
      approver: confirmed ? reported.approver : (recorded[0] ?? 'unknown (read from ServiceNow)'),
      approvers: recorded,
      via: claim?.via ?? 'poll',
      ...(confirmed && reported.comment ? { comment: reported.comment } : {}),
      ...(confirmed && reported.eventId ? { deliveryId: reported.eventId } : {}),
    };
    if (!claim) return;
    if (confirmed) this.answer(claim, { outcome: 'applied', changeNumber: claim.decision.changeNumber, decision: verdict.kind });
    else this.refuse(claim, `ServiceNow records the change as ${verdict.kind}${recorded.length > 0 ? ` by ${recorded.join(', ')}` : ''}, not ${reported?.decision} by ${reported?.approver}; the run acts on ServiceNow's decision`);
  }

  private refuse(claim: Claim, reason: string): void {
    const { decision } = claim;
    log.warn('reported decision refused: ServiceNow does not confirm it', { change: decision.changeNumber, via: claim.via });
    this.tracker.patch((s) => {
      const refused = s.approval.refused ?? [];
      refused.push({ at: new Date().toISOString(), via: claim.via, claimed: decision.decision, approver: decision.approver, reason, ...(decision.eventId ? { deliveryId: decision.eventId } : {}) });
      s.approval.refused = refused.slice(-MAX_REFUSALS_KEPT);
    });
    this.answer(claim, { outcome: 'refused', changeNumber: decision.changeNumber, reason });
  }

  /** A report still queued when the wait ended: the decision it carries was taken, or it came too late. */
  private answerLate(claim: Claim, expiredBecause: string | undefined): void {
    const { changeNumber, decision } = claim.decision;
    if (this.accepted?.decision === decision) this.answer(claim, { outcome: 'duplicate', changeNumber, decision });
    else this.answer(claim, { outcome: 'refused', changeNumber, reason: `the run stopped waiting (${expiredBecause ?? `already ${this.accepted?.decision}`})` });
  }

  private answer(claim: Claim, answer: DecisionAnswer): void {
    claim.answer = answer;
    if (claim.decision.eventId) this.answers.set(claim.decision.eventId, answer);
  }
}

/** Every way a decision reaches a run: the signal, the update (the API's), and the sweeper's prompt. */
export function listenForDecisions<View extends RunView>(gate: ApprovalGate<View>): void {
  setHandler(approvalSignal, (signal) => gate.receive(signal));
  setHandler(approvalUpdate, (decision) => gate.decide(decision), { validator: (decision) => gate.validate(decision) });
  setHandler(changeUpdatedSignal, (update) => gate.prompt(update));
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
  const expiredBecause = tracker.view().approval.expiredBecause;
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
          message: expiredBecause?.startsWith('the change window')
            ? `change ${change} expired: ${expiredBecause}`
            : `change ${change} was not approved within ${Math.round(deadlineMs / 60_000)} minutes`,
        });
  tracker.recordError(failure);
  await CancellationScope.nonCancellable(() => closeChange('cancelled', `Not applied: ${failure.message}.`));
  await tracker.conclude(outcome);
  throw failure;
}

/**
 * The approval step of a run: waits for the decision when `approval.required`, or records why no
 * approval was needed; then waits for the change's planned window to open. Rejected, expired, or
 * the window closed: ends the run through `endUnapproved` (throws).
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
  } else {
    const outcome = await gate.wait('awaitApproval' as View['stage'], approval.deadlineMs);
    if (outcome !== 'approved') await endUnapproved(outcome, gate, tracker, approval.deadlineMs, closeChange);
  }
  const closed = await gate.awaitWindow('awaitWindow' as View['stage']);
  if (closed) {
    tracker.patch((s) => (s.approval.expiredBecause = closed.expiredBecause));
    await endUnapproved('expired', gate, tracker, approval.deadlineMs, closeChange);
  }
}
