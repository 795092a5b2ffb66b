/** Starting the approval sweeper (ADR 16) from a worker: every worker of a task queue asks, one runs. */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { APPROVAL_SWEEPER_WORKFLOW_TYPE, approvalSweeperId } from '../shared/contracts/approval-sweeper';

/**
 * Starts the task queue's sweeper unless it is running. Nothing is started when polling is off; a
 * sweeper already running sees the worker's interval at its next sweep.
 */
export async function ensureApprovalSweeper(client: Client, taskQueue: string, intervalMs: number, options: { workflowTaskTimeoutMs?: number } = {}): Promise<void> {
  if (intervalMs <= 0) return;
  try {
    await client.workflow.start(APPROVAL_SWEEPER_WORKFLOW_TYPE, {
      workflowId: approvalSweeperId(taskQueue),
      taskQueue,
      args: [{}],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      ...(options.workflowTaskTimeoutMs ? { workflowTaskTimeout: options.workflowTaskTimeoutMs } : {}),
      staticSummary: 'approval sweeper: reads the changes decided in ServiceNow each poll interval and prompts the runs waiting on them',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** Ends the task queue's sweeper (a test platform's teardown; an operator retiring a task queue). */
export async function stopApprovalSweeper(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.workflow.getHandle(approvalSweeperId(taskQueue)).terminate('the task queue is retired');
  } catch {
    // Not running: nothing to stop.
  }
}
