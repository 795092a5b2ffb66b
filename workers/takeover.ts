/**
 * Restart in place (ADR 17). A worker killed mid-task leaves Temporal holding its tasks until
 * their timeouts fire: an activity attempt until its heartbeat timeout (10 s) or start-to-close
 * timeout, a workflow task queued for its sticky queue until the sticky schedule-to-start timeout.
 * A worker that starts on the same host and can tell that its predecessor is dead (its process is
 * gone) hands those tasks back at once: each activity attempt the dead worker had started is
 * failed by id with a retryable `WorkerEnded` failure (the activity's retry policy schedules the
 * next attempt), and each run that is not parked is taken off its sticky queue. A workflow task
 * the dead worker had started still waits for its timeout (`TEMPORAL_WORKFLOW_TASK_TIMEOUT`):
 * Temporal cannot fail it without the task's token.
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
import { temporal } from '@temporalio/proto';

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
}

/**
 * Hands back the tasks the `dead` workers held on `taskQueue`. Runs parked for approval hold no
 * task, so they are not even described. An activity whose timeout is about to fire anyway is left
 * to it: failing it by id after Temporal has started its next attempt would fail that one instead.
 */
export async function takeOverTasks(
  client: Client,
  options: { taskQueue: string; dead: ReadonlySet<string>; self: string; concurrency?: number; now?: () => number },
): Promise<TakeoverResult> {
  const result: TakeoverResult = { runs: 0, activities: 0, stickyResets: 0 };
  if (options.dead.size === 0) return result;
  const now = options.now ?? Date.now;
  const { namespace } = client.options;
  const query = `TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Running' AND (DeployStatus IS NULL OR DeployStatus != 'awaiting_approval')`;
  const executions: { workflowId: string; runId: string }[] = [];
  for await (const run of client.workflow.list({ query })) executions.push({ workflowId: run.workflowId, runId: run.runId });
  result.runs = executions.length;

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
    // Its next workflow task goes to the task queue, not to the sticky queue of a worker that may
    // be the dead one (where it would wait for the sticky schedule-to-start timeout). The cost, for
    // a run a live worker holds in its cache: one replay.
    try {
      await client.workflowService.resetStickyTaskQueue({ namespace, execution });
      result.stickyResets += 1;
    } catch {
      // The run closed meanwhile.
    }
  };

  const queue = [...executions];
  const lanes = Array.from({ length: Math.min(options.concurrency ?? 8, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await one(next);
  });
  await Promise.all(lanes);
  return result;
}

/**
 * A worker's start: records itself, and takes over from the dead predecessors on this host (run
 * it before the worker polls: a run it had already picked up would otherwise be taken off its
 * sticky queue and replayed for nothing). Never fails the start: a takeover that fails leaves
 * the tasks to their timeouts. `forget` on a clean shutdown.
 */
export async function takeOverFromDeadPredecessors(
  client: Client,
  options: { dataDir: string; taskQueue: string; identity: string; log: (message: string, fields: Record<string, unknown>) => void },
): Promise<{ forget(): void }> {
  const records = new WorkerRecords(options.dataDir, options.taskQueue);
  const self: WorkerRecord = { identity: options.identity, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const dead = records.deadPredecessors(self);
  records.register(self);
  const forget = { forget: () => records.forget(self.identity) };
  if (dead.length === 0) return forget;
  const started = Date.now();
  const predecessors = dead.map((d) => d.identity);
  try {
    const result = await takeOverTasks(client, { taskQueue: options.taskQueue, dead: new Set(predecessors), self: self.identity });
    for (const d of dead) records.forget(d.identity);
    options.log('took over from a dead predecessor', { predecessors, ...result, ms: Date.now() - started });
  } catch (error) {
    options.log('could not take over from a dead predecessor; its tasks resume at their timeouts', { predecessors, error: String(error) });
  }
  return forget;
}

/** Whether the attempt's heartbeat or start-to-close timeout fires within `marginMs` of `now`. */
function expiresWithin(activity: temporal.api.workflow.v1.IPendingActivityInfo, marginMs: number, now: number): boolean {
  const options = activity.activityOptions;
  const started = millis(activity.lastStartedTime);
  const heartbeatTimeout = millis(options?.heartbeatTimeout);
  const startToClose = millis(options?.startToCloseTimeout);
  const lastSeen = millis(activity.lastHeartbeatTime) ?? started;
  const deadlines: number[] = [];
  if (heartbeatTimeout && lastSeen !== undefined) deadlines.push(lastSeen + heartbeatTimeout);
  if (startToClose && started !== undefined) deadlines.push(started + startToClose);
  return deadlines.some((deadline) => deadline - now < marginMs);
}

/** A protobuf Timestamp or Duration in milliseconds. */
function millis(value: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (value?.seconds === undefined || value.seconds === null) return undefined;
  return Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
}
