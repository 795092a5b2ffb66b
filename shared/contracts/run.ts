/**
 * What every platform run (deployment, landing zone) reports: status, stage, steps, approval,
 * change, error. Each workflow's status view extends `RunView`.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ApprovalDecision, ChangeOutcome } from '../domain';

export type RunStatus =
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'rolled_back'
  | 'cancelled';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'rejected', 'expired', 'rolled_back', 'cancelled'];

export interface StepRecord {
  /** A stage name, or `undo:<stage>` for a compensating step. */
  name: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface ApprovalView {
  required: boolean;
  /** ISO time the approval window closes, once the wait has begun. */
  deadline?: string;
  decision?: ApprovalDecision['decision'] | 'expired';
  approver?: string;
  comment?: string;
  decidedAt?: string;
  /** How the decision arrived: the signed webhook, or the fallback that polls the change. */
  via?: 'webhook' | 'poll';
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

/** ServiceNow's decision on a run's change, delivered by the verified webhook. */
export const approvalSignal = defineSignal<[ApprovalDecision]>('approval');

/** Every platform workflow answers `status` with at least a RunView. */
export const runStatusQuery = defineQuery<RunView>('status');
