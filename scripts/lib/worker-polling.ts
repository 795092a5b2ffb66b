/**
 * Waits until a worker polls a task queue, as Temporal itself sees it (DescribeTaskQueue lists the
 * pollers of the last minutes), so "running" is only said once runs would really move.
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export async function waitForWorkerPolling(options: { address: string; namespace: string; taskQueue: string; timeoutMs: number; startedAt: number }): Promise<void> {
  const connection = await Connection.connect({ address: options.address });
  try {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: options.namespace,
        taskQueue: { name: options.taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      // Pollers are remembered for minutes: only one seen since this start counts (not the last run's worker).
      const fresh = (pollers ?? []).some((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= options.startedAt - 1_000);
      if (fresh) return;
      if (Date.now() > deadline) throw new Error(`no worker polled task queue ${options.taskQueue} within ${Math.round(options.timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}
