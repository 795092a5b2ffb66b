/**
 * A whole platform for one test file: the ServiceNow simulator, a worker on its own task queue, and
 * the API on an ephemeral port, all against the suite's real Temporal server. Nothing is mocked
 * unless a test passes its own ports.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createTemporalDeployLanes } from '../../activities/adapters/temporal-runs/lanes';
import { createTemporalWaitingRuns } from '../../activities/adapters/temporal-runs/waiting-runs';
import { DEFAULT_APPROVAL_POLL_INTERVAL_MS } from '../../activities/change-requests';
import { createDeployPorts, createLandingZonePorts } from '../../activities/adapters';
import type { DeployPorts } from '../../activities/deploy';
import { createApp } from '../../api/app';
import { DeploymentService } from '../../api/services/deployments';
import { TemporalRuns } from '../../api/temporal-runs';
import { loadConfig, type PlatformConfig } from '../../shared/config';
import type { DeploymentStatus, DeploymentStatusView } from '../../shared/contracts/deploy';
import { dataConverterFor } from '../../shared/codec/data-converter';
import { listen } from '../../shared/listen';
import { createLogger } from '../../shared/logger';
import { openPlatformStore, type PlatformStore } from '../../shared/store';
import { startServiceNowSimulator } from '../../simulators/servicenow/server';
import { ensureApprovalSweeper, stopApprovalSweeper } from '../../workers/approval-sweeper';
import { createDeployWorker } from '../../workers/deploy-worker';
import { documentedResponses } from './openapi-responses';
import { quietWorkerRuntime, testTemporalAddress, workflowBundle } from './temporal';

export const TEST_ENVIRONMENTS = `
environments:
  dev:
    cluster: local
    approval: { required: false }
    scan: { required: false, blockSeverities: [CRITICAL] }
    maxReplicas: 3
  staging:
    cluster: local
    approval: { required: true, deadline: 1h }
    scan: { required: true, blockSeverities: [CRITICAL] }
  prod:
    cluster: local
    approval: { required: true, deadline: 72h }
    scan: { required: true, blockSeverities: [CRITICAL, HIGH] }
    landingZone: { approvalRequired: true }
  hurry:
    cluster: local
    approval: { required: true, deadline: 3s }
    scan: { required: false, blockSeverities: [CRITICAL] }
`;

export interface TestPlatformOptions {
  /** Replace some ports (e.g. a failing cluster target); the rest are the real adapters. */
  ports?: (real: DeployPorts) => Partial<DeployPorts>;
  /** Skip the in-process worker (a test that runs workers as child processes). */
  startWorker?: boolean;
  /** How often a run waiting for approval polls its change; the worker's default (a minute) otherwise. */
  approvalPollIntervalMs?: number;
  /** The environment policy file's content; TEST_ENVIRONMENTS otherwise. */
  environments?: string;
  /** More settings (e.g. CLUSTER_TARGET=kubernetes, SCANNER=ecr), on top of the test defaults. */
  env?: Record<string, string>;
  /** A Temporal server of the test's own (host:port), e.g. one it kills; the suite's otherwise. */
  temporalAddress?: string;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  // Parsed JSON of arbitrary shape: each test asserts the fields it cares about.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface SimulatedChange {
  number: string;
  state: string;
  approval: string;
  type: string;
  correlation_id: string;
  close_code?: string;
  close_notes?: string;
  /** Planned window, `YYYY-MM-DD HH:MM:SS` (UTC) or ''. */
  start_date?: string;
  end_date?: string;
}

export interface TestPlatform {
  config: PlatformConfig;
  env: Record<string, string>;
  store: PlatformStore;
  client: Client;
  deployments: DeploymentService;
  apiUrl: string;
  simulatorUrl: string;
  dataDir: string;
  tokens: { admin: string; payments: string; retailAdmin: string; ledgerOwner: string };
  webhookSecret: string;
  http(method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<HttpResult>;
  waitForStatus(id: string, wanted: DeploymentStatus | DeploymentStatus[], timeoutMs?: number): Promise<DeploymentStatusView>;
  /** Decides as one approver in the simulator; `group` defaults to the change's assignment group. */
  simulator(action: 'approve' | 'reject', changeNumber: string, approver?: string, comment?: string, group?: string): Promise<HttpResult>;
  /** Has the simulator send the change's last decision webhook again (same event_id), as an instance retrying it. */
  redeliver(changeNumber: string): Promise<HttpResult>;
  /** The change requests a run opened, read through the simulator's Table API like the adapter does. */
  changesOfRun(runId: string): Promise<SimulatedChange[]>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export const DIGEST_A = `sha256:${'a1'.repeat(32)}`;

export function uniqueDigest(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const address = options.temporalAddress ?? (await testTemporalAddress());
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-test-'));
  const environmentsFile = join(dataDir, 'environments.yaml');
  writeFileSync(environmentsFile, options.environments ?? TEST_ENVIRONMENTS);
  const token = (name: string): string => `${name}-${randomBytes(16).toString('hex')}`;
  const tokens = { admin: token('admin'), payments: token('payments'), retailAdmin: token('retail-admin'), ledgerOwner: token('ledger-owner') };
  const webhookSecret = randomBytes(32).toString('hex');
  const servicenow = { user: 'platform.integration', password: randomBytes(16).toString('hex') };
  // Everything this platform opens, closed in reverse if a later step of the start fails, so a
  // failed start leaves no server or connection behind to keep the test process alive.
  const opened: (() => Promise<void> | void)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  const closeOpened = async (): Promise<void> => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  try {
    // Both servers bind port 0 before anything is configured: the ports are known only once bound.
    const server = createServer();
    const apiPort = (await listen(server, 0, '127.0.0.1')).port;
    opened.push(() => closeServer(server));
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const simulator = await startServiceNowSimulator({
      host: '127.0.0.1',
      port: 0,
      // Where the platform's configuration puts it (PLATFORM_DATA_DIR below).
      dataFile: join(dataDir, 'servicenow-simulator.json'),
      credentials: servicenow,
      webhook: { url: `${apiUrl}/v1/webhooks/servicenow`, secret: webhookSecret },
      // Change numbers are unique per ServiceNow instance; tests share one Temporal server.
      firstNumber: 1_000_000 + Math.floor(Math.random() * 8_000_000),
    });
    opened.push(() => simulator.close());

    const env: Record<string, string> = {
      PLATFORM_DATA_DIR: dataDir,
      PLATFORM_ENVIRONMENTS_FILE: environmentsFile,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      API_PORT: String(apiPort),
      SIMULATOR_PORT: String(simulator.port),
      SERVICENOW_URL: simulator.url,
      SERVICENOW_USER: servicenow.user,
      SERVICENOW_PASSWORD: servicenow.password,
      SERVICENOW_WEBHOOK_SECRET: webhookSecret,
      PLATFORM_CI_TOKENS: JSON.stringify({
        [tokens.admin]: { subject: 'ci-admin', projects: ['*'], roles: ['platform-admin'] },
        [tokens.payments]: { subject: 'ci-payments', projects: ['payments'] },
        [tokens.retailAdmin]: { subject: 'retail-admin', roles: ['tenant-admin:retail'] },
        [tokens.ledgerOwner]: { subject: 'ledger-owner', roles: ['project-owner:ledger'] },
      }),
      LOG_LEVEL: 'warn',
      // The suite calls with one token far faster than a pipeline: limits high enough never to be
      // met, so the limiter still runs on every request (test/api/rate-limit.test.ts sets its own).
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      API_RATE_LIMIT_BURST: '100000',
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
      WEBHOOK_RATE_LIMIT_BURST: '100000',
      ...options.env,
    };
    const config = loadConfig(env, 'api');
    // The worker's own view: it alone reads and checks the cluster connections.
    const workerConfig = loadConfig(env, 'worker');
    const logger = createLogger('test', 'warn');

    const connection = await Connection.connect({ address });
    opened.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterFor(config) });
    const runs = new TemporalRuns(client, { namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, uiUrl: config.temporal.uiUrl });
    const store = openPlatformStore(config.databaseFile);
    opened.push(() => store.close());
    // The deploy tests' project, as if a landing zone had created it (the landing-zone tests create real ones).
    store.landingZones.register({
      project: 'payments',
      tenant: 'retail',
      projectClass: 'java',
      environments: Object.keys(config.environments),
      workflowId: 'landing-zone.payments',
      runId: 'fixture',
      resources: {},
    });
    const deployments = new DeploymentService({ config, runs, landingZones: store.landingZones, configuration: store.configuration, idempotency: store.idempotency });
    server.on('request', createApp({ config, client, store, logger }));

    quietWorkerRuntime();
    const nativeConnection = await NativeConnection.connect({ address });
    opened.push(() => nativeConnection.close());
    let worker: { worker: Worker; running: Promise<void> } | undefined;

    const platform: TestPlatform = {
      config,
      env,
      store,
      client,
      deployments,
      apiUrl,
      simulatorUrl: simulator.url,
      dataDir,
      tokens,
      webhookSecret,

      async http(method, path, body, opts = {}) {
        const headers: Record<string, string> = { ...(opts.headers ?? {}) };
        const token = opts.token === undefined ? tokens.admin : opts.token;
        if (token) headers.authorization = `Bearer ${token}`;
        if (body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
        const url = `${path.startsWith('http') ? '' : apiUrl}${path}`;
        const response = await fetch(url, {
          method,
          headers,
          body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        // Every answer of the API (not the simulator's) must be one its OpenAPI document describes.
        if (url.startsWith(`${apiUrl}/`)) documentedResponses(config).check(method, url.slice(apiUrl.length), response.status, response.headers.get('content-type'), parsed);
        return { status: response.status, headers: response.headers, body: parsed };
      },

      async waitForStatus(id, wanted, timeoutMs = 60_000) {
        const targets = Array.isArray(wanted) ? wanted : [wanted];
        const deadline = Date.now() + timeoutMs;
        let last: DeploymentStatusView | null | undefined;
        while (Date.now() < deadline) {
          const snapshot = await deployments.snapshot(id);
          last = snapshot?.view;
          if (last && targets.includes(last.status)) return last;
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error(`deployment ${id} did not reach ${targets.join('/')} within ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
      },

      async simulator(action, changeNumber, approver = 'jane.approver', comment, group) {
        const body = { approver, ...(comment ? { comment } : {}), ...(group ? { group } : {}) };
        return platform.http('POST', `${simulator.url}/sim/changes/${changeNumber}/${action}`, body, { token: null });
      },

      async redeliver(changeNumber) {
        return platform.http('POST', `${simulator.url}/sim/changes/${changeNumber}/redeliver`, undefined, { token: null });
      },

      async changesOfRun(runId) {
        const auth = Buffer.from(`${config.servicenow.user}:${config.servicenow.password}`).toString('base64');
        const response = await fetch(`${simulator.url}/api/now/table/change_request?sysparm_query=correlation_id=${runId}`, {
          headers: { authorization: `Basic ${auth}`, accept: 'application/json' },
        });
        if (response.status !== 200) throw new Error(`simulator answered ${response.status}`);
        return ((await response.json()) as { result: SimulatedChange[] }).result;
      },

      async startWorker() {
        const pollIntervalMs = options.approvalPollIntervalMs ?? DEFAULT_APPROVAL_POLL_INTERVAL_MS;
        const real = createDeployPorts(workerConfig);
        const ports: DeployPorts = { ...real, ...(options.ports?.(real) ?? {}) };
        const created = await createDeployWorker({
          connection: nativeConnection,
          namespace: config.temporal.namespace,
          taskQueue: config.temporal.taskQueue,
          ports,
          landingZonePorts: createLandingZonePorts(workerConfig, store, ports, { client }),
          lanes: createTemporalDeployLanes(client, { workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs }),
          waitingRuns: createTemporalWaitingRuns(client, config.temporal.taskQueue),
          approvalPollIntervalMs: pollIntervalMs,
          workflowBundle: await workflowBundle(),
          dataConverter: dataConverterFor(config),
        });
        worker = { worker: created, running: created.run() };
        await ensureApprovalSweeper(client, config.temporal.taskQueue, pollIntervalMs, { workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs });
      },

      async stopWorker() {
        if (!worker) return;
        worker.worker.shutdown();
        await worker.running;
        worker = undefined;
      },

      async stop() {
        await stopApprovalSweeper(client, config.temporal.taskQueue);
        await platform.stopWorker();
        // The API first: no request may reach a closed store or simulator.
        await closeServer(server);
        await closeOpened();
      },
    };
    opened.push(() => platform.stopWorker());

    if (options.startWorker !== false) await platform.startWorker();
    return platform;
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

/** Closes `server` and its open connections; a server that is not listening is already closed. */
async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** A valid deployment body; override what a test is about. */
export function deploymentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: 'payments',
    service: 'ledger',
    environment: 'dev',
    image: `registry.example.com/payments/ledger:1.4.2@${uniqueDigest()}`,
    port: 8080,
    replicas: 2,
    route: { host: 'ledger.payments.example.com', path: '/' },
    ...overrides,
  };
}
