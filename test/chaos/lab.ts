/**
 * The chaos suite's laboratory: one platform per experiment (its own task queue, GitOps repository,
 * ServiceNow simulator behind a delaying proxy, worker processes), optionally on a Temporal dev
 * server of its own with a database file, so that server can be SIGKILLed and restarted on the same
 * port with the same file. Plus the probes the matrix uses to see where a run is.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import { startTemporalDevServer, type DevServer } from '../../scripts/lib/temporal-dev-server';
import { ChangeNumber, DeployStatus } from '../../shared/search-attributes';
import { GitOpsRepo } from '../helpers/fixtures';
import { startTestPlatform, type SimulatedChange, type TestPlatform } from '../helpers/platform';
import { workerProcesses, type WorkerProcesses } from '../helpers/worker-processes';
import { startDelayProxy, type DelayProxy, type RequestLine } from '../support/delay-proxy';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const isChangeCreate = (r: RequestLine): boolean => r.method === 'POST' && r.url.startsWith('/api/now/table/change_request');

/** A Temporal dev server this experiment owns: SIGKILL it, start it again on the same port and database file. */
export class OwnTemporal {
  private constructor(
    private server: DevServer,
    private readonly port: number,
    private readonly dbFile: string,
  ) {}

  static async start(dir: string): Promise<OwnTemporal> {
    const dbFile = join(dir, 'temporal.sqlite');
    const server = await startTemporalDevServer({ dbFile, unref: true });
    return new OwnTemporal(server, Number(server.address.split(':').pop()), dbFile);
  }

  get address(): string {
    return this.server.address;
  }

  async kill(): Promise<void> {
    const child = this.server.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async restart(): Promise<void> {
    // The port was ours a moment ago; a start that races the kernel releasing it is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        this.server = await startTemporalDevServer({ port: this.port, dbFile: this.dbFile, unref: true });
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(500);
      }
    }
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** What the test-owned pre-commit hook does with a commit whose staged paths contain a pattern. */
export interface HookRules {
  /** Refuse the commit (the cluster target reports ClusterTargetRejected: final). */
  refuse?: string;
  /** Note the commit in the marker file, then sleep this long: the apply is in flight meanwhile. */
  slow?: { pattern: string; ms: number };
}

export interface LabOptions {
  /** Kill the Temporal server in this experiment: it gets a server of its own with a database file. */
  ownTemporal?: boolean;
  /** Settings for the worker processes only (read when each one starts). */
  workerEnv?: Record<string, string>;
}

export class Lab {
  readonly repo: GitOpsRepo;
  readonly workers: WorkerProcesses;
  readonly marker: string;
  worker: ChildProcess | undefined;
  private started = 0;

  private constructor(
    readonly platform: TestPlatform,
    readonly proxy: DelayProxy,
    readonly temporal: OwnTemporal | undefined,
    private readonly scratch: string,
    workerEnv: Record<string, string>,
  ) {
    this.repo = new GitOpsRepo(platform.config.gitops.repoDir);
    this.workers = workerProcesses(() => ({ ...platform.env, ...workerEnv }));
    this.marker = join(scratch, 'hook-hits');
  }

  static async open(options: LabOptions = {}): Promise<Lab> {
    const scratch = mkdtempSync(join(tmpdir(), 'chaos-'));
    let simulatorUrl: string | undefined;
    const proxy = await startDelayProxy({
      target: () => {
        if (!simulatorUrl) throw new Error('the simulator is not started yet');
        return simulatorUrl;
      },
    });
    let temporal: OwnTemporal | undefined;
    try {
      temporal = options.ownTemporal ? await OwnTemporal.start(scratch) : undefined;
      const platform = await startTestPlatform({
        startWorker: false,
        ...(temporal ? { temporalAddress: temporal.address } : {}),
        // Workers reach ServiceNow through the proxy; approvals are also found by polling, so a
        // webhook that arrives while no worker (or no server) answers is never the only way in.
        env: { SERVICENOW_URL: proxy.url, SERVICENOW_POLL_INTERVAL: '3s' },
      });
      simulatorUrl = platform.simulatorUrl;
      return new Lab(platform, proxy, temporal, scratch, options.workerEnv ?? {});
    } catch (error) {
      await proxy.close();
      await temporal?.stop();
      rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
  }

  startWorker(): ChildProcess {
    this.started += 1;
    this.worker = this.workers.start(`worker-${this.started}`);
    return this.worker;
  }

  async killWorker(): Promise<void> {
    if (this.worker) await this.workers.kill(this.worker);
  }

  /** Creates the GitOps repository (as the worker would) and installs a pre-commit hook with `rules`. */
  async installHook(rules: HookRules): Promise<void> {
    const { repoDir, branch } = this.platform.config.gitops;
    await createGitOpsClusterTarget({ repoDir, branch }).inventory({ cluster: 'local', namespace: 'chaos-warmup' });
    const lines = ['#!/bin/sh', 'staged=$(git diff --cached --name-only)'];
    if (rules.refuse) lines.push(`if echo "$staged" | grep -qF -- '${rules.refuse}'; then echo 'frozen by the chaos test' >&2; exit 1; fi`);
    if (rules.slow) lines.push(`if echo "$staged" | grep -qF -- '${rules.slow.pattern}'; then echo hit >> '${this.marker}'; sleep ${(rules.slow.ms / 1000).toFixed(1)}; fi`);
    lines.push('exit 0', '');
    const hook = join(repoDir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, lines.join('\n'));
    chmodSync(hook, 0o755);
  }

  /** How many commits the slow rule has held so far. */
  hookHits(): number {
    return existsSync(this.marker) ? readFileSync(this.marker, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  /** Whether the run's history has scheduled `activityType` (at least `times` times). */
  async scheduled(workflowId: string, runId: string, activityType: string, times = 1): Promise<boolean> {
    const history = await this.platform.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const n = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType).length;
    return n >= times;
  }

  /** The change number once the server has the run recorded as waiting for approval (search attributes). */
  async waitingChange(workflowId: string, runId: string): Promise<string | undefined> {
    const description = await this.platform.client.workflow.getHandle(workflowId, runId).describe();
    const number = description.typedSearchAttributes.get(ChangeNumber);
    return description.typedSearchAttributes.get(DeployStatus) === 'awaiting_approval' && number ? number : undefined;
  }

  /** When the run closed (server time), or undefined while it runs. */
  async closedAt(workflowId: string, runId: string): Promise<Date | undefined> {
    const description = await this.platform.client.workflow.getHandle(workflowId, runId).describe();
    return description.status.name === 'RUNNING' ? undefined : (description.closeTime ?? new Date());
  }

  changes(runId: string): Promise<SimulatedChange[]> {
    return this.platform.changesOfRun(runId);
  }

  /** The run's GitOps commits (trailer Platform-Run) with their idempotency keys, newest first. */
  commitsOf(runId: string): { subject: string; key: string | undefined }[] {
    return this.repo
      .commits()
      .filter((c) => c.body.split('\n').some((line) => line.trim() === `Platform-Run: ${runId}`))
      .map((c) => ({
        subject: c.subject,
        key: c.body
          .split('\n')
          .map((line) => /^Platform-(?:Idempotency|Reverts)-Key: (.+)$/.exec(line.trim())?.[0])
          .find((k) => k !== undefined),
      }));
  }

  context(): string {
    return `proxy:\n${this.proxy.describe().split('\n').slice(-15).join('\n')}\nworkers:\n${this.workers.tail(30)}`;
  }

  async close(): Promise<void> {
    await this.workers.killAll();
    await this.platform.stop();
    await this.proxy.close();
    await this.temporal?.stop();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
