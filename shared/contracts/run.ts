/**
 * What every platform run (deployment, landing zone) reports: status, stage, steps, approval,
 * change, error. Each workflow's status view extends `RunView`.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ChangeOutcome, ChangeWindow } from '../domain';

export const RUN_STATUSES = [
  'running',
  'awaiting_approval',
  /** Approved; a durable timer waits for the change's planned window to open. */
  'waiting_for_window',
  /** Ready to deploy; another run of the same service and environment is changing it (ADR 15). */
  'queued',
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'rolled_back',
  'cancelled',
  /** A newer request for the same service and environment replaced the run before it changed anything. */
  'superseded',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'rejected', 'expired', 'rolled_back', 'cancelled', 'superseded'];

export interface StepRecord {
  /** A stage name, or `undo:<stage>` for a compensating step. */
  name: string;
  /** `cancelled`: the step was interrupted because the run was cancelled. */
  status: 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

/**
 * How a decision reached the run, as the run itself saw it: a Temporal signal or update (the API
 * delivers verified webhooks as updates, but anyone with Temporal access can send either), or the
 * run's own reading of the change. `webhook` only appears on runs from before this was recorded.
 */
export type DecisionChannel = 'signal' | 'update' | 'poll' | 'webhook';

/** A reported decision the run did not act on, and why. */
export interface RefusedDecision {
  at: string;
  via: DecisionChannel;
  claimed: ApprovalDecision['decision'];
  approver: string;
  deliveryId?: string;
  reason: string;
}

export interface ApprovalView {
  required: boolean;
  /** ISO time the approval window closes, once the wait has begun. */
  deadline?: string;
  decision?: ApprovalDecision['decision'] | 'expired';
  /** Who approved or rejected (the reported approver, when ServiceNow confirms them). */
  approver?: string;
  /** Every approver ServiceNow records whose approval counts under the policy. */
  approvers?: string[];
  comment?: string;
  decidedAt?: string;
  via?: DecisionChannel;
  /** The webhook delivery (`event_id`) the decision came with. */
  deliveryId?: string;
  /** Why an expired run expired (the deadline, or the change window closing). */
  expiredBecause?: string;
  /** Reported decisions that were not acted on (most recent last, at most 20). */
  refused?: RefusedDecision[];
  /** The change's planned window, as last read from ServiceNow. */
  window?: ChangeWindow;
}

export interface RunView<Stage extends string = string> {
  status: RunStatus;
  /** The current stage; `compensate` while undoing, `done` once the run has ended. */
  stage: Stage | 'compensate' | 'done';
  startedAt: string;
  endedAt?: string;
  steps: StepRecord[];
  approval: ApprovalView;
  change?: { number: string; sysId: string; url?: string; outcome?: ChangeOutcome };
  error?: { type: string; message: string };
  /** Failures of compensating steps, which need a human. */
  compensationErrors: { step: string; message: string }[];
}

/**
 * A reported decision on a run's change. Runs act on it only after reading the same decision in
 * ServiceNow; kept for clients that signal (the API itself uses `approvalUpdate`).
 */
export const approvalSignal = defineSignal<[ApprovalDecision]>('approval');

/**
 * A prompt, not a decision: ServiceNow records a decision on the change (the approval sweeper saw
 * it). A run waiting for approval reads the change and judges it exactly as it does for a webhook;
 * any other run ignores it. Carries nothing but the change's number.
 */
export interface ChangeUpdate {
  changeNumber: string;
}
export const changeUpdatedSignal = defineSignal<[ChangeUpdate]>('changeUpdated');

/** The run's own answer to a reported decision. */
export interface DecisionAnswer {
  /** applied: ServiceNow confirms it and the run acts on it; duplicate: already applied (a redelivery). */
  outcome: 'applied' | 'duplicate' | 'refused';
  changeNumber: string;
  /** The decision the run acted on, when it has one. */
  decision?: ApprovalDecision['decision'];
  reason?: string;
}

/** Same as the signal, but the sender learns the run's verdict. Validated before it is recorded. */
export const approvalUpdate = defineUpdate<DecisionAnswer, [ApprovalDecision]>('approvalDecision');

/** Failure types the update's validator rejects with (nothing is recorded in the run's history). */
export const DecisionRejection = {
  /** The run is not waiting for a decision, or decided differently: HTTP 409. */
  NotAwaited: 'DecisionNotAwaited',
  /** Malformed, or for another change: HTTP 422. */
  Invalid: 'DecisionInvalid',
} as const;

/** Every platform workflow answers `status` with at least a RunView. */
export const runStatusQuery = defineQuery<RunView>('status');
