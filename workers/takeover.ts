/**
 * Restart in place (ADR 17). A worker killed mid-task leaves Temporal holding its tasks until
 * their timeouts fire: an activity attempt until its heartbeat timeout (10 s) or start-to-close
 * timeout, a workflow task queued for its sticky queue until the sticky schedule-to-start timeout.
 * A worker that starts on the same host and can tell that its predecessor is dead (its process is
 * gone) hands those tasks back at once: each activity attempt the dead worker had started is
 * failed by id with a retryable `WorkerEnded` failure (the activity's retry policy schedules the
 * next attempt), each run that is not parked is taken off its sticky queue, and a workflow task
 * already queued on the dead worker's sticky queue is taken from it and failed back to the task
 * queue. A workflow task the dead worker had started still waits for its timeout
 * (`TEMPORAL_WORKFLOW_TASK_TIMEOUT`): only the worker that holds it has its token.
 *
 * Predecessors are known from a record each worker leaves in the data directory. A process that
 * may still be alive (its pid exists) is never taken over: its tasks wait for Temporal's timeouts
 * as before. So this only shortens a restart; a worker replaced on another host (a new pod without
 * the old one's volume) still resumes through the timeouts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

/** Parked runs read to learn the dead workers' sticky queues (any run a worker served names its queue). */
const PARKED_SAMPLE = 20;

/** Concurrent polls on one dead sticky queue while it is drained. */
const STICKY_POLLERS = 8;

/**
 * How long the drain is worth it: a task queued on a dead sticky queue moves to the task queue by
 * itself after the worker's sticky schedule-to-start timeout (the SDK's default, 10 s, which this
 * worker keeps). Past that, draining only competes with Temporal doing the same.
 */
const STICKY_TIMEOUT_MS = 10_000;

/** A bound on the tasks taken from one dead sticky queue (it holds at most the dead worker's cache). */
const MAX_STICKY_POLLS = 10_000;

/** The failure type an attempt of a dead worker ends with; retryable under every retry policy. */
export const WORKER_ENDED = 'WorkerEnded';

export interface WorkerRecord {
  identity: string;
  pid: number;
  host: string;
  startedAt: string;
}

/** A worker identity that tells two processes apart even when a container restart reuses the pid. */
export function newWorkerIdentity(host = hostname(), pid = process.pid): string {
  return `${pid}@${host}/${randomBytes(4).toString('hex')}`;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, as another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The records of the workers of one task queue that share a data directory. */
export class WorkerRecords {
  private readonly dir: string;

  constructor(dataDir: string, taskQueue: string) {
    this.dir = join(dataDir, 'workers', encodeURIComponent(taskQueue));
  }

  register(record: WorkerRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file(record.identity), JSON.stringify(record));
  }

  forget(identity: string): void {
    rmSync(this.file(identity), { force: true });
  }

  /**
   * The recorded workers of this host that are certainly dead: an earlier process under this pid
   * (a container restart), or a pid that no longer exists. Unreadable records are skipped.
   */
  deadPredecessors(self: WorkerRecord, exists: (pid: number) => boolean = processExists): WorkerRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const dead: WorkerRecord[] = [];
    for (const name of names) {
      const record = this.read(join(this.dir, name));
      if (!record || record.identity === self.identity || record.host !== self.host) continue;
      if (record.pid === self.pid || !exists(record.pid)) dead.push(record);
    }
    return dead;
  }

  private read(path: string): WorkerRecord | undefined {
    try {
      const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<WorkerRecord>;
      return typeof value.identity === 'string' && typeof value.pid === 'number' && typeof value.host === 'string'
        ? { identity: value.identity, pid: value.pid, host: value.host, startedAt: String(value.startedAt) }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private file(identity: string): string {
    return join(this.dir, `${encodeURIComponent(identity)}.json`);
  }
}

export interface TakeoverResult {
  /** Open runs looked at. */
  runs: number;
  /** Activity attempts of the dead workers failed by id. */
  activities: number;
  /** Runs taken off their sticky queue. */
  stickyResets: number;
  /** The dead workers' sticky queues, for `drainStickyQueues`. */
  stickyQueues: string[];
}

/**
 * Hands back what the `dead` workers held on `taskQueue`, before the new worker polls: their
 * activity attempts (failed by id) and every open run's stickiness; and names their sticky queues
 * for `drainStickyQueues`, which runs once the worker polls. Runs parked for approval hold no
 * activity, so they are not described; the newest few are read only to learn the sticky queues. An activity whose timeout is about to
 * fire anyway is left to it: failing it by id after Temporal has started its next attempt would
 * fail that one instead.
 */
export async function takeOverTasks(
  client: Client,
  options: { taskQueue: string; dead: ReadonlySet<string>; self: string; concurrency?: number; now?: () => number },
): Promise<TakeoverResult> {
  const result: TakeoverResult = { runs: 0, activities: 0, stickyResets: 0, stickyQueues: [] };
  if (options.dead.size === 0) return result;
  const now = options.now ?? Date.now;
  const { namespace } = client.options;
  const running = `TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Running'`;
  const query = `${running} AND (DeployStatus IS NULL OR DeployStatus != 'awaiting_approval')`;
  const executions: { workflowId: string; runId: string }[] = [];
  for await (const run of client.workflow.list({ query })) executions.push({ workflowId: run.workflowId, runId: run.runId });
  result.runs = executions.length;
  const deadStickyQueues = new Set<string>();

  const one = async (execution: { workflowId: string; runId: string }): Promise<void> => {
    let described: temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
    try {
      described = await client.workflowService.describeWorkflowExecution({ namespace, execution });
    } catch {
      return; // closed or gone since the listing: nothing to hand back
    }
    for (const activity of described.pendingActivities ?? []) {
      if (activity.state !== temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) continue;
      if (!activity.lastWorkerIdentity || !options.dead.has(activity.lastWorkerIdentity) || !activity.activityId) continue;
      if (expiresWithin(activity, 1_000, now())) continue;
      try {
        await client.activity.fail(
          { workflowId: execution.workflowId, runId: execution.runId, activityId: activity.activityId },
          ApplicationFailure.retryable(`the worker running this attempt (${activity.lastWorkerIdentity}) ended; ${options.self} handed it back`, WORKER_ENDED),
        );
        result.activities += 1;
      } catch {
        // Completed, timed out or retried in the meantime: Temporal already moved on.
      }
    }
    await learnStickyQueue(execution);
  };
  /**
   * Notes the dead worker's sticky queue if the run's newest workflow tasks went there. The SDK
   * names a worker's sticky queue `<worker identity>-<random>`, as the histories show.
   */
  const learnStickyQueue = async (execution: { workflowId: string; runId: string }): Promise<void> => {
    const queue = await lastStickyQueue(client, execution).catch(() => undefined);
    if (queue && [...options.dead].some((identity) => queue.startsWith(`${identity}-`))) deadStickyQueues.add(queue);
  };

  /**
   * Its next workflow task goes to the task queue, not to the sticky queue of a worker that may be
   * the dead one (where it would wait for the sticky schedule-to-start timeout). The cost, for a
   * run a live worker holds in its cache: one replay.
   */
  const resetSticky = async (execution: { workflowId: string; runId: string }): Promise<void> => {
    try {
      await client.workflowService.resetStickyTaskQueue({ namespace, execution });
      result.stickyResets += 1;
    } catch {
      // The run closed meanwhile.
    }
  };
  await forEachLimited(executions, options.concurrency ?? 16, one);
  // A decision that reached a parked run while no worker lived queued a task on the dead worker's
  // sticky queue too. Parked runs are not described, but the newest few name that queue.
  const parked: { workflowId: string; runId: string }[] = [];
  for await (const run of client.workflow.list({ query: `${running} AND DeployStatus = 'awaiting_approval'`, pageSize: PARKED_SAMPLE })) {
    parked.push({ workflowId: run.workflowId, runId: run.runId });
    if (parked.length >= PARKED_SAMPLE) break;
  }
  await forEachLimited(parked, options.concurrency ?? 16, learnStickyQueue);
  await forEachLimited(executions, options.concurrency ?? 16, resetSticky);
  result.stickyQueues = [...deadStickyQueues];
  return result;
}

/**
 * Takes the workflow tasks already queued on the dead workers' sticky queues back to the task
 * queue (see `drainStickyQueue`); returns how many. Runs while the new worker polls: an empty
 * queue is only known after a long poll's shortest wait (Temporal refuses less than about 2 s).
 */
export async function drainStickyQueues(client: Client, options: { stickyQueues: readonly string[]; taskQueue: string; self: string }): Promise<number> {
  const until = Date.now() + STICKY_TIMEOUT_MS;
  const drained = await Promise.all(options.stickyQueues.map((queue) => drainStickyQueue(client, queue, options.taskQueue, options.self, until)));
  return drained.reduce((a, b) => a + b, 0);
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await work(next);
  }));
}

/** The sticky queue the run's newest workflow tasks were put on, if any (its newest events, read backwards). */
async function lastStickyQueue(client: Client, execution: { workflowId: string; runId: string }): Promise<string | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({ namespace: client.options.namespace, execution, maximumPageSize: 20 });
  for (const event of history?.events ?? []) {
    const queue = event.workflowTaskScheduledEventAttributes?.taskQueue;
    if (queue?.kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY && queue.name) return queue.name;
  }
  return undefined;
}

/**
 * Takes the workflow tasks waiting on a dead worker's sticky queue, until it is empty, and fails
 * each with the cause Temporal's SDKs use for a sticky task they cannot serve
 * (RESET_STICKY_TASK_QUEUE): the server schedules the task again on the task queue at once,
 * instead of at the sticky timeout. This also frees the tasks of parked runs that a decision woke
 * while no worker lived, which the listing skips. A poll waits at most 3 s for a task, and the
 * drain stops when every task still queued there would have moved by its sticky timeout anyway
 * (a resume of 500 runs: 495 tasks drained over 73 s, most of them later than the timeout).
 */
async function drainStickyQueue(client: Client, stickyQueue: string, normalName: string, identity: string, until: number): Promise<number> {
  const { namespace } = client.options;
  let drained = 0;
  let polls = 0;
  /** One poller: takes tasks until the queue answers empty. */
  const poller = async (): Promise<void> => {
    while (polls++ < MAX_STICKY_POLLS && Date.now() < until) {
      let taskToken: Uint8Array | null | undefined;
      try {
        ({ taskToken } = await client.connection.withDeadline(Date.now() + 3_000, () =>
          client.workflowService.pollWorkflowTaskQueue({
            namespace,
            identity,
            taskQueue: { name: stickyQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName },
          }),
        ));
      } catch {
        return; // nothing left on it (the poll's deadline passed)
      }
      if (!taskToken?.length) return;
      try {
        await client.workflowService.respondWorkflowTaskFailed({
          namespace,
          identity,
          taskToken,
          cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
        });
        drained += 1;
      } catch {
        // The run moved on meanwhile; its task is Temporal's again either way.
      }
    }
  };
  // Several at once: each task waits out its sticky timeout while it stays queued.
  await Promise.all(Array.from({ length: STICKY_POLLERS }, poller));
  return drained;
}

/**
 * A worker's start: records itself, and takes over from the dead predecessors on this host. Await
 * it before the worker polls: a run the worker had already picked up would otherwise be taken off
 * its sticky queue and replayed for nothing. The tasks queued on dead sticky queues are drained
 * afterwards, while the worker polls (`settled`), and one line reports it all. Never fails the
 * start: a takeover that fails leaves the tasks to their timeouts. `forget` on a clean shutdown.
 */
export async function takeOverFromDeadPredecessors(
  client: Client,
  options: { dataDir: string; taskQueue: string; identity: string; log: (message: string, fields: Record<string, unknown>) => void },
): Promise<{ forget(): void; settled: Promise<void> }> {
  const records = new WorkerRecords(options.dataDir, options.taskQueue);
  const self: WorkerRecord = { identity: options.identity, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const dead = records.deadPredecessors(self);
  records.register(self);
  const forget = (): void => records.forget(self.identity);
  if (dead.length === 0) return { forget, settled: Promise.resolve() };
  const started = Date.now();
  const predecessors = dead.map((d) => d.identity);
  let taken: TakeoverResult;
  try {
    taken = await takeOverTasks(client, { taskQueue: options.taskQueue, dead: new Set(predecessors), self: self.identity });
    for (const d of dead) records.forget(d.identity);
  } catch (error) {
    options.log('could not take over from a dead predecessor; its tasks resume at their timeouts', { predecessors, error: String(error) });
    return { forget, settled: Promise.resolve() };
  }
  const beforePollMs = Date.now() - started;
  const { stickyQueues, ...counts } = taken;
  const settled = drainStickyQueues(client, { stickyQueues, taskQueue: options.taskQueue, self: self.identity })
    .catch(() => 0)
    .then((stickyTasks) => options.log('took over from a dead predecessor', { predecessors, ...counts, stickyQueues: stickyQueues.length, stickyTasks, beforePollMs, ms: Date.now() - started }));
  return { forget, settled };
}

/** Whether the attempt's heartbeat or start-to-close timeout fires within `marginMs` of `now`. */
function expiresWithin(activity: temporal.api.workflow.v1.IPendingActivityInfo, marginMs: number, now: number): boolean {
  const options = activity.activityOptions;
  const started = optionalTsToMs(activity.lastStartedTime);
  const heartbeatTimeout = optionalTsToMs(options?.heartbeatTimeout);
  const startToClose = optionalTsToMs(options?.startToCloseTimeout);
  const lastSeen = optionalTsToMs(activity.lastHeartbeatTime) ?? started;
  const deadlines: number[] = [];
  if (heartbeatTimeout && lastSeen !== undefined) deadlines.push(lastSeen + heartbeatTimeout);
  if (startToClose && started !== undefined) deadlines.push(started + startToClose);
  return deadlines.some((deadline) => deadline - now < marginMs);
}
