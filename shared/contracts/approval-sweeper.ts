/**
 * The approval sweeper (ADR 16): one workflow per task queue that reads every change decided since
 * its last sweep in one paged ServiceNow query and prompts the runs waiting on them.
 */
export const APPROVAL_SWEEPER_WORKFLOW_TYPE = 'approvalSweeperWorkflow';

/** One sweeper per task queue: the workers of that queue share it. */
export function approvalSweeperId(taskQueue: string): string {
  return `approval-sweeper.${taskQueue}`;
}

export interface ApprovalSweeperInput {
  /** ISO time the next sweep reads from; undefined on the first run (the sweep looks back a while). */
  since?: string;
}

export interface SweepResult {
  /** Where the next sweep starts reading (this sweep's start, less the overlap). */
  nextSince: string;
  /** How long to wait before the next sweep (the worker's SERVICENOW_POLL_INTERVAL); 0: polling is off. */
  intervalMs: number;
  /** ServiceNow pages read. */
  pages: number;
  decided: number;
  prompted: number;
}
