/**
 * How long each workflow task took on the worker (started → completed), read from run histories:
 * the number a workflow task timeout must stay above with room to spare, and a view of how loaded
 * the worker's workflow threads were.
 */
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { distribution, mapLimit, type Distribution } from './stats';

export async function workflowTaskDurations(client: Client, runs: { workflowId: string; runId?: string }[]): Promise<{ durations: Distribution | undefined; timedOut: number }> {
  const durations: number[] = [];
  let timedOut = 0;
  await mapLimit(runs, 8, async (run) => {
    const { events } = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const startedAt = new Map<string, number>();
    for (const event of events ?? []) {
      const at = optionalTsToMs(event.eventTime);
      if (event.workflowTaskStartedEventAttributes && at !== undefined) startedAt.set(String(event.eventId), at);
      const completed = event.workflowTaskCompletedEventAttributes;
      if (completed && at !== undefined) {
        const started = startedAt.get(String(completed.startedEventId));
        if (started !== undefined) durations.push(at - started);
      }
      if (event.workflowTaskTimedOutEventAttributes) timedOut++;
    }
  });
  return { durations: distribution(durations), timedOut };
}
