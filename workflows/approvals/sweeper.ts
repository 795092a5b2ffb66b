/**
 * The approval sweeper (ADR 16): one per task queue, started by the workers. Each iteration reads
 * the changes decided since the last one and prompts the runs waiting on them, then sleeps the
 * worker's poll interval. The waiting runs themselves schedule nothing, so a parked run costs no
 * ServiceNow read, no activity slot and nothing in the worker's cache.
 */
import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { ApprovalSweepActivities } from '../../activities/approval-sweep';
import type { ApprovalSweeperInput } from '../../shared/contracts/approval-sweeper';
import { NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';

const { sweepDecidedChanges } = proxyActivities<ApprovalSweepActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  // A ServiceNow outage is waited out here; the runs meanwhile still take webhooks.
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  summary: 'read the changes decided since the last sweep; prompt their runs',
});

/** A fresh history now and then, well before Temporal would suggest one. */
const SWEEPS_PER_RUN = 200;

export async function approvalSweeperWorkflow(input: ApprovalSweeperInput = {}): Promise<void> {
  let since = input.since;
  for (let sweep = 0; sweep < SWEEPS_PER_RUN && !workflowInfo().continueAsNewSuggested; sweep++) {
    const result = await sweepDecidedChanges(since ? { since } : {});
    if (result.intervalMs <= 0) return; // polling was turned off: a worker that polls starts a new sweeper
    since = result.nextSince;
    await sleep(result.intervalMs, { summary: 'poll interval' });
  }
  await continueAsNew<typeof approvalSweeperWorkflow>(since ? { since } : {});
}
