/**
 * Waits until a worker polls a task queue, as Temporal itself sees it (DescribeTaskQueue lists the
 * pollers of the last minutes), so "running" is only said once runs would really move.
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type Poller = temporal.api.taskqueue.v1.IPollerInfo;

/** The workflow pollers Temporal lists on a task queue (it remembers them for minutes). */
export async function workflowPollers(connection: Connection, namespace: string, taskQueue: string): Promise<Poller[]> {
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return pollers ?? [];
}

/** Whether a poller was seen since `since` (ms): not a worker of an earlier run (one-second resolution). */
export function polledSince(poller: Poller, since: number): boolean {
  return Number(poller.lastAccessTime?.seconds ?? 0) * 1000 >= since - 1_000;
}

export async function waitForWorkerPolling(options: { address: string; namespace: string; taskQueue: string; timeoutMs: number; startedAt: number }): Promise<void> {
  const connection = await Connection.connect({ address: options.address });
  try {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const pollers = await workflowPollers(connection, options.namespace, options.taskQueue);
      if (pollers.some((p) => polledSince(p, options.startedAt))) return;
      if (Date.now() > deadline) throw new Error(`no worker polled task queue ${options.taskQueue} within ${Math.round(options.timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}
