/** Prompting waiting runs on Temporal: a visibility query per batch of changes, a signal per run. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { changeUpdatedSignal } from '../../../shared/contracts/run';
import { ChangeNumber, DeployStatus } from '../../../shared/search-attributes';
import type { WaitingRuns } from '../../ports/waiting-runs';

/** Change numbers per visibility query (the query's length grows with it). */
const BATCH = 50;
const CHANGE_NUMBER = /^[A-Za-z0-9_-]{1,40}$/;

export function createTemporalWaitingRuns(client: Client, taskQueue: string): WaitingRuns {
  const queue = JSON.stringify(taskQueue);
  return {
    async prompt(changeNumbers) {
      // A number that could break out of the quoted list is not one of ours; it is skipped, not queried.
      const numbers = [...new Set(changeNumbers.filter((n) => CHANGE_NUMBER.test(n)))];
      let prompted = 0;
      for (let i = 0; i < numbers.length; i += BATCH) {
        const batch = numbers.slice(i, i + BATCH);
        const query =
          `TaskQueue = ${queue} AND ExecutionStatus = 'Running' AND ${DeployStatus.name} = 'awaiting_approval' ` +
          `AND ${ChangeNumber.name} IN (${batch.map((n) => JSON.stringify(n)).join(', ')})`;
        for await (const run of client.workflow.list({ query })) {
          const changeNumber = run.typedSearchAttributes.get(ChangeNumber);
          if (typeof changeNumber !== 'string') continue;
          try {
            await client.workflow.getHandle(run.workflowId, run.runId).signal(changeUpdatedSignal, { changeNumber });
            prompted += 1;
          } catch (error) {
            if (!(error instanceof WorkflowNotFoundError)) throw error; // ended since the query: nothing to prompt
          }
        }
      }
      return prompted;
    },
  };
}
