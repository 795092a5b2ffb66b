/**
 * What every scenario works with: the bench's own Temporal dev server, the platform (API and
 * ServiceNow simulator in this process, its worker as a child process), the floor's worker and
 * client, and the run shapes (activity counts) read from real platform histories.
 */
import { randomUUID } from 'node:crypto';
import { type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { trivyReport } from '../../test/helpers/fixtures';
import { deploymentBody, type TestPlatform } from '../../test/helpers/platform';
import type { DelayProxy } from '../../test/support/delay-proxy';
import type { DeploymentStatusView } from '../../shared/contracts/deploy';
import type { BenchRuntime } from './runtime';
import type { FloorInput, FloorResult } from '../floor/workflows';
import { childMatching, readCpu, type CpuReading } from './cpu';
import { firstPoll, spawnWorker, type BenchWorker } from './children';
import type { Sizes } from './sizes';
import { sleep } from './stats';
import { workerProcessEnv } from '../../workers/process-env';

/** How many activities a run schedules, and (for a run that waits for approval) how many before the wait. */
export interface RunShape {
  activities: number;
  /** Activities scheduled before the approval wait ends (staging only). */
  beforeWait?: number;
  /** Per-run approval polls scheduled (0 since the approval sweeper, ADR 16). */
  polls?: number;
  historyEvents: number;
}

export interface PostedRun {
  workflowId: string;
  runId: string;
}

export class Bench {
  platformWorker: BenchWorker | undefined;
  floorWorker: BenchWorker | undefined;
  /** The Temporal dev server's process, for its CPU time. */
  serverPid: number | undefined;
  readonly shapes: { dev?: RunShape; staging?: RunShape; landingZone?: RunShape } = {};
  private serial = 0;

  constructor(
    readonly sizes: Sizes,
    readonly platform: TestPlatform,
    /** A plain client (no codec), as a Temporal user without the platform would have. */
    readonly floorClient: Client,
    readonly connection: Connection,
    readonly floorTaskQueue: string,
    readonly temporalAddress: string,
    readonly tempDir: string,
    /** Counts the worker's requests to the ServiceNow simulator (a pass-through proxy). */
    readonly serviceNowProxy: DelayProxy,
    readonly log: (line: string) => void,
    /** How its child processes run: compiled, as the image runs them, or under tsx (bench/lib/runtime.ts). */
    readonly runtime: BenchRuntime,
  ) {}

  /**
   * CPU time so far of the processes a run costs: the Temporal server, both workers (with the
   * git commands the platform's ran) and this process (the API, the ServiceNow simulator and the
   * bench's own clients).
   */
  readCpu(): CpuReading {
    const worker = this.platformWorker?.child.pid;
    return readCpu({
      server: this.serverPid,
      'platform worker': worker,
      // Included in the worker's: its git helper and the git commands it ran.
      'of which git': childMatching(worker, /spawner-process/),
      'floor worker': this.floorWorker?.child.pid,
      'bench (API, simulator, clients)': 'self',
    });
  }

  /** A name no earlier run of this bench used (DNS label). */
  unique(prefix: string): string {
    return `${prefix}-${(++this.serial).toString(36)}-${randomUUID().slice(0, 6)}`;
  }

  // ---- platform ----

  /** Starts the platform's worker process (it bundles its workflows first) and resolves once it polls. */
  async startPlatformWorker(label: string): Promise<{ worker: BenchWorker; startedToPollMs: number }> {
    const worker = spawnWorker({
      label,
      entry: 'workers/main.ts',
      runtime: this.runtime,
      // As `npm start` and docker-compose start it (workers/process-env.ts).
      env: { ...this.platform.env, ...workerProcessEnv(), SERVICENOW_URL: this.serviceNowProxy.url, LOG_LEVEL: 'warn' },
      tempDir: this.tempDir,
      ...(process.env.BENCH_CPU_PROFILE ? { cpuProfileDir: process.env.BENCH_CPU_PROFILE } : {}),
    });
    this.platformWorker = worker;
    const polled = await firstPoll(this.connection, { namespace: this.platform.config.temporal.namespace, taskQueue: this.platform.config.temporal.taskQueue, since: worker.spawnedAt, timeoutMs: 180_000, worker });
    return { worker, startedToPollMs: polled - worker.spawnedAt };
  }

  async startFloorWorker(label: string): Promise<{ worker: BenchWorker; startedToPollMs: number }> {
    const worker = spawnWorker({
      label,
      entry: 'bench/floor/worker.ts',
      runtime: this.runtime,
      env: { BENCH_FLOOR_ADDRESS: this.temporalAddress, BENCH_FLOOR_TASK_QUEUE: this.floorTaskQueue },
      tempDir: this.tempDir,
    });
    this.floorWorker = worker;
    const polled = await firstPoll(this.connection, { namespace: 'default', taskQueue: this.floorTaskQueue, since: worker.spawnedAt, timeoutMs: 180_000, worker });
    return { worker, startedToPollMs: polled - worker.spawnedAt };
  }

  /** POST to the platform's API with the admin token; throws unless it answers `expected`. */
  async post(path: string, body: unknown, expected = 202): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.platform.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.platform.tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  devBody(service = this.unique('svc')): Record<string, unknown> {
    return deploymentBody({ service });
  }

  stagingBody(service = this.unique('stg')): Record<string, unknown> {
    const body = deploymentBody({ service, environment: 'staging' });
    body.scanReport = trivyReport(body.image as string, ['HIGH', 'MEDIUM', 'LOW']);
    return body;
  }

  async postDeployment(body: Record<string, unknown>): Promise<PostedRun> {
    const answer = await this.post('/v1/deployments', body);
    return { workflowId: String(answer.deploymentId), runId: String(answer.runId) };
  }

  /** Resolves when the run has ended; throws unless it succeeded. */
  async platformResult(run: PostedRun): Promise<void> {
    await this.platform.client.workflow.getHandle(run.workflowId, run.runId).result();
  }

  async status(run: PostedRun): Promise<DeploymentStatusView | undefined> {
    return (await this.platform.deployments.snapshot(run.workflowId, run.runId))?.view ?? undefined;
  }

  /** Polls until the deployment is waiting for approval; its change number. */
  async awaitApproval(run: PostedRun, timeoutMs = 120_000): Promise<string> {
    const view = await this.platform.waitForStatus(run.workflowId, 'awaiting_approval', timeoutMs);
    if (!view.change) throw new Error(`${run.workflowId} waits for approval without a change`);
    return view.change.number;
  }

  /** Approves as one approver in the simulator, which calls the platform's signed webhook; the simulator's answer. */
  async approve(changeNumber: string): Promise<void> {
    const response = await fetch(`${this.platform.simulatorUrl}/sim/changes/${changeNumber}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approver: 'bench.approver', comment: 'bench' }),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`approve ${changeNumber}: simulator answered ${response.status}: ${text.slice(0, 300)}`);
    const webhook = (JSON.parse(text) as { webhook?: { status?: number } }).webhook;
    // 202 applied; 200 when the run had already applied it (its own poll read the change first).
    if (webhook?.status !== 202 && webhook?.status !== 200) throw new Error(`approve ${changeNumber}: webhook answered ${JSON.stringify(webhook)}`);
  }

  /** When the run first scheduled `activityType` (ISO), from its history; undefined when it never did. */
  async activityScheduledAt(run: PostedRun, activityType: string): Promise<string | undefined> {
    const history = await this.platform.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const event = (history.events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
    const at = event?.eventTime;
    return at ? new Date(Number(at.seconds ?? 0) * 1000 + Math.round((at.nanos ?? 0) / 1e6)).toISOString() : undefined;
  }

  /** How many activities a run scheduled, from its history. */
  async shapeOf(workflowId: string, runId: string, client: Client = this.platform.client): Promise<RunShape> {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    const names = scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
    // The wait ends at the first read of the change: a poll (runs from before the sweeper) or the
    // read that a decision (webhook, prompt) triggers. Poll attempts are retries of one activity.
    const isPoll = (n: string) => n === 'awaitChangeDecision' || n === 'pollChangeVerdict';
    const firstWait = names.findIndex((n) => isPoll(n) || n === 'readChangeVerdict');
    const polls = names.filter(isPoll).length;
    return { activities: scheduled.length, ...(firstWait >= 0 ? { beforeWait: firstWait, polls } : {}), historyEvents: events.length };
  }

  /** The dev deploy's shape, from one warm-up run (which also warms the worker and the GitOps repository). */
  async devShape(): Promise<RunShape> {
    if (!this.shapes.dev) {
      const run = await this.postDeployment(this.devBody(this.unique('warm')));
      await this.platformResult(run);
      this.shapes.dev = await this.shapeOf(run.workflowId, run.runId);
      this.log(`dev deploy: ${this.shapes.dev.activities} activities, ${this.shapes.dev.historyEvents} history events`);
    }
    return this.shapes.dev;
  }

  /** The staging deploy's shape, from one approved run. */
  async stagingShape(): Promise<RunShape> {
    if (!this.shapes.staging) {
      const run = await this.postDeployment(this.stagingBody(this.unique('warm-stg')));
      await this.approve(await this.awaitApproval(run));
      await this.platformResult(run);
      this.shapes.staging = await this.shapeOf(run.workflowId, run.runId);
      this.log(`staging deploy: ${this.shapes.staging.activities} activities (${this.shapes.staging.beforeWait} before the approval wait), ${this.shapes.staging.historyEvents} history events`);
    }
    return this.shapes.staging;
  }

  // ---- floor ----

  async startFloor(input: FloorInput, taskQueue = this.floorTaskQueue): Promise<WorkflowHandle> {
    return this.floorClient.workflow.start('floorWorkflow', { taskQueue, workflowId: this.unique('floor'), args: [input] });
  }

  async floorResult(handle: WorkflowHandle): Promise<FloorResult> {
    return (await handle.result()) as FloorResult;
  }

  /** Polls the floor run's `parked` query until it waits for its signal. */
  async floorParked(handle: WorkflowHandle, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await handle.query<boolean>('parked'))) {
      if (Date.now() > deadline) throw new Error(`floor run ${handle.workflowId} did not park within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}
