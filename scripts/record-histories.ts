/**
 * Records the histories the replay suite (`npm run test:replay`, test/replay/) replays: real runs
 * of every workflow, driven over HTTP and through the ServiceNow simulator as the tests do, on a
 * Temporal dev server of its own. Each history is fetched, every encrypted payload is decoded with
 * the platform's codec (no key is ever committed), and it is written as proto JSON to
 * test/fixtures/histories/<commit>/<scenario>.json. Each one is replayed at once with the code it
 * was recorded with, and checked for secrets (API tokens, the webhook secret, the ServiceNow
 * password, the payload key, issued CI tokens) and for payloads still encrypted.
 *
 * Record from a clean checkout of the release (a worktree), not from a tree with work in progress:
 *
 *   git worktree add /tmp/wt-replay <release commit> && cd /tmp/wt-replay
 *   ln -s "$OLDPWD/node_modules" node_modules && ln -s "$OLDPWD/.tools" .tools   # packages, Temporal CLI
 *   npx tsx scripts/record-histories.ts [--only name,name] [--out dir] [--allow-dirty] [--list]
 *
 * (At a commit older than this script, copy it and test/helpers/history-json.ts into the worktree.)
 * Scenarios build on earlier ones (landing zones created, updated, then decommissioned), so
 * `--only` still drives every scenario and writes only the named ones. About two minutes on 2
 * cores. See docs/operations/changing-workflows.md.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createLocalGitSourceRepositories } from '../activities/adapters/git-source';
import { createLocalSecretStore } from '../activities/adapters/local-secrets';
import { payloadCodecFor } from '../shared/codec/data-converter';
import { ENCRYPTED_ENCODING } from '../shared/codec/payload-encryption';
import type { DeploymentStatusView } from '../shared/contracts/deploy';
import { deployLaneId } from '../shared/contracts/deploy-lane';
import { approvalSignal, runStatusQuery, type RunView } from '../shared/contracts/run';
import { trivyReport } from '../test/helpers/fixtures';
import { historyJsonText, loadHistory } from '../test/helpers/history-json';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../test/helpers/platform';
import { quietWorkerRuntime, workflowBundle } from '../test/helpers/temporal';
import { startTemporalDevServer } from './lib/temporal-dev-server';
import { projectRoot } from './lib/tools';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/**
 * The test environments plus two of the recorder's own: `hurry` (3 s approval deadline, landing
 * zones with it need approval too: the expiry cases) and `recheck` (a scan older than 1 s is
 * repeated after approval: the rescan step). Kept here so a recording does not depend on what the
 * tests' policy is today.
 */
const ENVIRONMENTS = `
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
    landingZone: { approvalRequired: true }
  recheck:
    cluster: local
    approval: { required: true, deadline: 1h }
    scan: { required: true, blockSeverities: [CRITICAL], maxAge: 1s }
`;

interface Run {
  workflowId: string;
  runId: string;
}

interface Recorder {
  /** The platform most scenarios use (approval polling at the worker's default, a minute). */
  main: TestPlatform;
  /** A platform whose runs poll their change every second (started on first use). */
  polling(): Promise<TestPlatform>;
  /** Secrets a scenario made (e.g. an issued CI token) that no history may hold. */
  secret(value: string): void;
}

interface Scenario {
  name: string;
  /** What happens in the run, for the log and the fixture list. */
  story: string;
  /** Drives the run until it has ended, or (waiting) until it waits; the run to record. */
  run(recorder: Recorder): Promise<Run & { platform?: TestPlatform }>;
  /** The history ends while the run waits: recorded then, and the run terminated. */
  waiting?: boolean;
}

// --- driving runs --------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function expectStatus(response: { status: number; body: unknown }, status: number, what: string): void {
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
}

/** The run's own status view (the `status` query every workflow answers). */
async function view(platform: TestPlatform, run: Run): Promise<RunView> {
  return platform.client.workflow.getHandle(run.workflowId, run.runId).query(runStatusQuery);
}

async function waitForView(platform: TestPlatform, run: Run, what: string, test: (v: RunView) => boolean): Promise<RunView> {
  return until(`${run.workflowId}: ${what}`, async () => {
    const current = await view(platform, run).catch(() => undefined);
    return current && test(current) ? current : undefined;
  });
}

async function awaitingApproval(platform: TestPlatform, run: Run): Promise<string> {
  const waiting = await waitForView(platform, run, 'awaiting approval', (v) => v.status === 'awaiting_approval' && v.change !== undefined);
  return waiting.change?.number ?? '';
}

async function closed(platform: TestPlatform, run: Run): Promise<string> {
  return until(`${run.workflowId} to close`, async () => {
    const description = await platform.client.workflow.getHandle(run.workflowId, run.runId).describe();
    return description.status.name === 'RUNNING' ? undefined : description.status.name;
  });
}

function image(service: string, project = 'payments'): string {
  return `registry.example.com/${project}/${service}:1.4.2@${uniqueDigest()}`;
}

async function startDeploy(platform: TestPlatform, overrides: Record<string, unknown>): Promise<Run> {
  const environment = typeof overrides.environment === 'string' ? overrides.environment : 'dev';
  const service = typeof overrides.service === 'string' ? overrides.service : 'ledger';
  const img = typeof overrides.image === 'string' ? overrides.image : image(service);
  const scanned = environment === 'staging' || environment === 'prod' || environment === 'recheck';
  const body = deploymentBody({ image: img, ...(scanned ? { scanReport: trivyReport(img) } : {}), ...overrides });
  const started = await platform.http('POST', '/v1/deployments', body);
  expectStatus(started, 202, `deploy ${service} to ${environment}`);
  return { workflowId: started.body.deploymentId, runId: started.body.runId };
}

/** Decides in the simulator, which sends the signed webhook (API → update) unless `webhook` is false. */
async function decide(platform: TestPlatform, action: 'approve' | 'reject', change: string, approver: string, comment?: string, webhook = true): Promise<void> {
  const body = { approver, ...(comment ? { comment } : {}), ...(webhook ? {} : { webhook: false }) };
  const decided = await platform.http('POST', `${platform.simulatorUrl}/sim/changes/${change}/${action}`, body, { token: null });
  expectStatus(decided, 200, `${action} ${change}`);
  if (webhook && decided.body.webhook?.status !== 202) throw new Error(`the webhook for ${change} was not accepted: ${JSON.stringify(decided.body.webhook)}`);
}

function landingZoneBody(project: string, environments: string[]): Record<string, unknown> {
  return { project, tenant: 'retail', class: 'node-web', owners: { emails: [`${project}-owner@example.com`], group: `team-${project}` }, environments };
}

async function startLandingZone(platform: TestPlatform, project: string, environments: string[]): Promise<Run> {
  const created = await platform.http('POST', '/v1/landing-zones', landingZoneBody(project, environments));
  expectStatus(created, 202, `landing zone ${project}`);
  return { workflowId: created.body.landingZoneId, runId: created.body.runId };
}

/** A landing zone created (no approval: dev, staging) and finished, for the update and decommission cases. */
async function landingZone(recorder: Recorder, project: string, environments: string[]): Promise<void> {
  const run = await startLandingZone(recorder.main, project, environments);
  const status = await closed(recorder.main, run);
  if (status !== 'COMPLETED') throw new Error(`landing zone ${project} ended ${status}`);
  const { resources } = (await recorder.main.http('GET', `/v1/landing-zones/${project}`)).body as { resources: { ciTokenSecretRef?: string } };
  if (resources.ciTokenSecretRef) recorder.secret(await createLocalSecretStore(recorder.main.dataDir).read(resources.ciTokenSecretRef));
}

async function startOperation(platform: TestPlatform, method: 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<Run> {
  const started = await platform.http(method, path, body);
  expectStatus(started, 202, `${method} ${path}`);
  return { workflowId: started.body.operationId, runId: started.body.runId };
}

/** The deploy lane a deploy run joined (ADR 15), as the run to record. */
async function laneOf(platform: TestPlatform, run: Run): Promise<Run> {
  const { project, service, environment } = (await view(platform, run)) as DeploymentStatusView;
  const workflowId = deployLaneId({ project, service, environment }, platform.config.temporal.taskQueue);
  const { runId } = await platform.client.workflow.getHandle(workflowId).describe();
  return { workflowId, runId };
}

/** A git pre-commit hook in the GitOps repository (the real adapter commits there): a real refusal or a slow commit. */
function gitopsHook(platform: TestPlatform, script: string | undefined): void {
  const hook = join(platform.config.gitops.repoDir, '.git', 'hooks', 'pre-commit');
  if (!script) return rmSync(hook, { force: true });
  writeFileSync(hook, `#!/bin/sh\nstaged=$(git diff --cached --name-only)\n${script}\n`);
  chmodSync(hook, 0o755);
}

// --- the scenarios -------------------------------------------------------------------------

const SCENARIOS: Scenario[] = [
  {
    name: 'deploy-dev-no-approval',
    story: 'dev deploy, no approval (standard change); succeeded',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'ledger-dev' });
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-staging-approved-webhook',
    story: 'staging deploy approved in the simulator: webhook → API → update, verified in ServiceNow; succeeded',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'ledger', environment: 'staging' });
      await decide(main, 'approve', await awaitingApproval(main, run), 'jane.approver', 'looks good');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-staging-approved-signal',
    story: 'staging deploy approved in the simulator with the webhook lost; the decision signalled (as from the Temporal UI) and verified in ServiceNow; succeeded',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'signalled', environment: 'staging' });
      const change = await awaitingApproval(main, run);
      await decide(main, 'approve', change, 'jane.approver', undefined, false);
      await main.client.workflow.getHandle(run.workflowId, run.runId).signal(approvalSignal, { decision: 'approved', approver: 'jane.approver', changeNumber: change, comment: 'approved by phone' });
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-staging-approved-poll',
    story: 'staging deploy approved with the webhook lost, learnt by the poller (poll interval 1 s); succeeded',
    run: async (recorder) => {
      const platform = await recorder.polling();
      const run = await startDeploy(platform, { service: 'polled', environment: 'staging' });
      await decide(platform, 'approve', await awaitingApproval(platform, run), 'jane.approver', undefined, false);
      await closed(platform, run);
      return { ...run, platform };
    },
  },
  {
    name: 'deploy-staging-rejected-webhook',
    story: 'staging deploy rejected in the simulator (webhook → update); ended rejected, change cancelled',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'rejected-svc', environment: 'staging' });
      await decide(main, 'reject', await awaitingApproval(main, run), 'bob.cab', 'not during the freeze');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-hurry-expired',
    story: 'deploy to an environment with a 3 s approval deadline, nobody decides; ended expired, change cancelled',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'slow-svc', environment: 'hurry' });
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-recheck-rescanned',
    story: 'approved after the scan grew older than the policy allows (1 s): the image is scanned again before the deploy; succeeded',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'rescanned', environment: 'recheck' });
      const change = await awaitingApproval(main, run);
      await sleep(1_500);
      await decide(main, 'approve', change, 'jane.approver');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-staging-cancelled-awaiting-approval',
    story: 'staging deploy cancelled (POST /cancel) while awaiting approval; nothing applied, change cancelled',
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'cancel-svc', environment: 'staging' });
      await awaitingApproval(main, run);
      expectStatus(await main.http('POST', `/v1/deployments/${run.workflowId}/cancel`), 202, 'cancel');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-dev-rolled-back',
    story: 'dev deploy whose mesh commit the GitOps repository refuses (pre-commit hook): the deploy is reverted, change closed unsuccessful; rolled_back',
    run: async ({ main }) => {
      gitopsHook(main, 'case "$staged" in *"/mesh-fail/mesh/"*) echo "mesh changes are frozen" >&2; exit 1;; esac');
      try {
        const run = await startDeploy(main, { service: 'mesh-fail' });
        await closed(main, run);
        return run;
      } finally {
        gitopsHook(main, undefined);
      }
    },
  },
  {
    name: 'deploy-dev-cancelled-while-deploying',
    story: 'dev deploy cancelled while its mesh commit is being written (a slow pre-commit hook): what was applied is undone; cancelled',
    run: async ({ main }) => {
      gitopsHook(main, 'case "$staged" in *"/cancel-mid/mesh/"*) sleep 5;; esac');
      try {
        const run = await startDeploy(main, { service: 'cancel-mid' });
        await waitForView(main, run, 'wiring the mesh', (v) => v.stage === 'wireMesh');
        await sleep(1_000);
        expectStatus(await main.http('POST', `/v1/deployments/${run.workflowId}/cancel`), 202, 'cancel');
        await closed(main, run);
        return run;
      } finally {
        gitopsHook(main, undefined);
      }
    },
  },
  {
    name: 'deploy-prod-scan-violation',
    story: 'prod deploy whose scan report has a HIGH finding: fails ScanPolicyViolation before any side effect',
    run: async ({ main }) => {
      const img = image('vuln-svc');
      const run = await startDeploy(main, { service: 'vuln-svc', environment: 'prod', image: img, scanReport: trivyReport(img, ['HIGH', 'LOW']) });
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'deploy-staging-awaiting-approval',
    story: 'staging deploy still waiting for approval: the poller scheduled and the deadline timer started (then terminated)',
    waiting: true,
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'parked', environment: 'staging' });
      await awaitingApproval(main, run);
      return run;
    },
  },
  {
    name: 'deploy-lane-one-run',
    story: 'the deploy lane of a dev deploy alone in it: started by the run holding it (ADR 21), then the leave; lingering for a late joiner (then terminated)',
    waiting: true,
    run: async ({ main }) => {
      const run = await startDeploy(main, { service: 'lane-solo' });
      await closed(main, run);
      return laneOf(main, run);
    },
  },
  {
    name: 'deploy-lane-contended',
    story: 'the deploy lane of three dev deploys of one service: the second queued behind the first (a slow commit), superseded by the third, which is granted when the first leaves; lingering (then terminated)',
    waiting: true,
    run: async ({ main }) => {
      gitopsHook(main, 'case "$staged" in *"/lane-busy/app/"*) sleep 3;; esac');
      try {
        const first = await startDeploy(main, { service: 'lane-busy' });
        await waitForView(main, first, 'deploying', (v) => v.stage === 'deploy');
        const second = await startDeploy(main, { service: 'lane-busy' });
        await waitForView(main, second, 'queued', (v) => v.status === 'queued');
        const third = await startDeploy(main, { service: 'lane-busy' });
        for (const run of [first, second, third]) await closed(main, run);
        return laneOf(main, third);
      } finally {
        gitopsHook(main, undefined);
      }
    },
  },
  {
    name: 'landing-zone-create-dev',
    story: 'landing zone with dev and staging (no approval); everything created, succeeded',
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'shop', ['dev', 'staging']);
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-prod-approved',
    story: 'landing zone with dev and prod (approval required), approved in the simulator (webhook → update); succeeded',
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'vault', ['dev', 'prod']);
      await decide(main, 'approve', await awaitingApproval(main, run), 'cab.chair');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-prod-rejected',
    story: 'landing zone with prod, rejected in the simulator; nothing created, ended rejected',
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'refused', ['dev', 'prod']);
      await decide(main, 'reject', await awaitingApproval(main, run), 'cab.chair', 'no budget');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-expired',
    story: 'landing zone with an environment whose approval deadline is 3 s, nobody decides; ended expired',
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'tardy', ['dev', 'hurry']);
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-cancelled-awaiting-approval',
    story: 'landing zone with prod cancelled (Temporal client) while awaiting approval; change cancelled',
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'halted', ['dev', 'prod']);
      await awaitingApproval(main, run);
      await main.client.workflow.getHandle(run.workflowId, run.runId).cancel();
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-rolled-back',
    story: 'landing zone whose source repository name is taken: namespaces, registry record and configuration undone; rolled_back',
    run: async ({ main }) => {
      await createLocalGitSourceRepositories({ rootDir: join(main.dataDir, 'repositories') }).create({
        name: 'retail/broken',
        files: { 'README.md': 'squatter\n' },
        initialCommit: { message: 'squat', author: { name: 'someone', email: 'someone@example.com' } },
        idempotencyKey: 'not-the-landing-zone',
      });
      const run = await startLandingZone(main, 'broken', ['dev']);
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-create-awaiting-approval',
    story: 'landing zone with prod still waiting for approval (then terminated)',
    waiting: true,
    run: async ({ main }) => {
      const run = await startLandingZone(main, 'pending', ['dev', 'prod']);
      await awaitingApproval(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-update-add-environment',
    story: 'update adding staging to a dev landing zone (no approval): one namespace, its configuration, the record; succeeded',
    run: async (recorder) => {
      await landingZone(recorder, 'grow', ['dev']);
      const run = await startOperation(recorder.main, 'PATCH', '/v1/landing-zones/grow', { addEnvironments: ['staging'] });
      await closed(recorder.main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-update-quota',
    story: 'update of the quota only: every namespace again, configuration skipped; succeeded',
    run: async ({ main }) => {
      const run = await startOperation(main, 'PATCH', '/v1/landing-zones/grow', { quota: { pods: 42 } });
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-update-prod-approved',
    story: 'update adding prod (approval required), approved in the simulator; succeeded',
    run: async ({ main }) => {
      const run = await startOperation(main, 'PATCH', '/v1/landing-zones/grow', { addEnvironments: ['prod'] });
      await decide(main, 'approve', await awaitingApproval(main, run), 'cab.chair');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-update-rolled-back',
    story: 'update adding staging and changing the quota; the GitOps repository refuses the dev quota: the added namespace is undone; rolled_back',
    run: async (recorder) => {
      await landingZone(recorder, 'shrink', ['dev']);
      gitopsHook(recorder.main, 'case "$staged" in *"shrink-dev/_namespace/"*) echo "quota changes are frozen" >&2; exit 1;; esac');
      try {
        const run = await startOperation(recorder.main, 'PATCH', '/v1/landing-zones/shrink', { addEnvironments: ['staging'], quota: { pods: 7 } });
        await closed(recorder.main, run);
        return run;
      } finally {
        gitopsHook(recorder.main, undefined);
      }
    },
  },
  {
    name: 'landing-zone-update-awaiting-approval',
    story: 'update adding prod still waiting for approval (then terminated)',
    waiting: true,
    run: async ({ main }) => {
      const run = await startOperation(main, 'PATCH', '/v1/landing-zones/shrink', { addEnvironments: ['prod'] });
      await awaitingApproval(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-decommission-refused-in-use',
    story: 'decommission of a landing zone with a deployed service, not forced: refused LandingZoneInUse, the freeze undone',
    run: async (recorder) => {
      const { main } = recorder;
      await landingZone(recorder, 'inuse', ['dev']);
      const deploy = await startDeploy(main, { project: 'inuse', service: 'web', image: `registry.localhost/retail/inuse@${uniqueDigest()}` });
      if ((await closed(main, deploy)) !== 'COMPLETED') throw new Error('the deploy into inuse failed');
      const run = await startOperation(main, 'DELETE', '/v1/landing-zones/inuse');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-decommission-forced',
    story: 'forced decommission of that landing zone: the service, namespace, image repository, token, configuration, source repository and record removed; succeeded',
    run: async ({ main }) => {
      const run = await startOperation(main, 'DELETE', '/v1/landing-zones/inuse?force=true&reason=project%20closed');
      await closed(main, run);
      return run;
    },
  },
  {
    name: 'landing-zone-decommission-prod-approved',
    story: 'decommission of a landing zone with prod (approval required), approved in the simulator; succeeded',
    run: async ({ main }) => {
      const run = await startOperation(main, 'DELETE', '/v1/landing-zones/vault');
      await decide(main, 'approve', await awaitingApproval(main, run), 'cab.chair');
      await closed(main, run);
      return run;
    },
  },
];

// --- histories -----------------------------------------------------------------------------

function isPayload(value: object): value is Payload {
  const metadata = (value as { metadata?: unknown }).metadata;
  return !!metadata && typeof metadata === 'object' && ArrayBuffer.isView((metadata as Record<string, unknown>).encoding);
}

function encodingOf(payload: Payload): string {
  const encoding = payload.metadata?.encoding;
  return encoding ? Buffer.from(encoding).toString('utf8') : '';
}

/** Replaces every payload anywhere in `value` (inputs, results, signals, failures' attributes, summaries...) by its decoded form. */
async function decodePayloads(value: unknown, codec: PayloadCodec): Promise<unknown> {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (isPayload(value)) {
    if (encodingOf(value) !== ENCRYPTED_ENCODING) return value;
    const [decoded] = await codec.decode([value]);
    return decoded;
  }
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    const decoded = await decodePayloads(child, codec);
    if (decoded !== child) record[key] = decoded;
  }
  return value;
}

/** Every string and every byte field (as UTF-8) in the events, for the secret check. */
function allText(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (ArrayBuffer.isView(value)) into.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  else if (value && typeof value === 'object') for (const child of Object.values(value)) allText(child, into);
  return into;
}

function encryptedLeft(value: unknown): number {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return 0;
  if (isPayload(value)) return encodingOf(value) === ENCRYPTED_ENCODING ? 1 : 0;
  return Object.values(value).reduce<number>((n, child) => n + encryptedLeft(child), 0);
}

function eventTypeName(event: HistoryEvent | undefined): string {
  return `EVENT_TYPE_${String(event?.eventType ?? 'UNKNOWN')}`;
}

/** The history of a run that is waiting: once no workflow task is pending and nothing changed for two seconds. */
async function settledHistory(platform: TestPlatform, run: Run): Promise<temporal.api.history.v1.IHistory> {
  const handle = platform.client.workflow.getHandle(run.workflowId, run.runId);
  let last = -1;
  let stableSince = Date.now();
  return until(`${run.workflowId} to settle`, async () => {
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    if (events.length !== last) {
      last = events.length;
      stableSince = Date.now();
      return undefined;
    }
    const type = events.at(-1)?.eventType;
    const taskPending = type === 5 || type === 6; // WORKFLOW_TASK_SCHEDULED, WORKFLOW_TASK_STARTED
    return !taskPending && Date.now() - stableSince >= 2_000 ? history : undefined;
  });
}

// --- main ----------------------------------------------------------------------------------

function git(...args: string[]): string {
  return execFileSync('git', ['-C', projectRoot, ...args], { encoding: 'utf8' }).trim();
}

function parseArgs(argv: string[]): { only?: Set<string>; out?: string; allowDirty: boolean; list: boolean } {
  const options: { only?: Set<string>; out?: string; allowDirty: boolean; list: boolean } = { allowDirty: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') options.only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (arg === '--out') options.out = argv[++i];
    else if (arg === '--allow-dirty') options.allowDirty = true;
    else if (arg === '--list') options.list = true;
    else throw new Error(`unknown argument ${arg}; usage: record-histories.ts [--only a,b] [--out dir] [--allow-dirty] [--list]`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(50)} ${s.story}`);
    return;
  }
  const unknown = [...(options.only ?? [])].filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`no such scenario: ${unknown.join(', ')} (--list shows them)`);

  // What the histories are of: the committed workflow code, nothing in progress.
  const dirty = git('status', '--porcelain', '--', 'workflows', 'activities', 'shared', 'workers');
  if (dirty && !options.allowDirty) throw new Error(`uncommitted changes to the code runs execute; record from a clean checkout (a worktree):\n${dirty}`);
  const commit = git('rev-parse', '--short=7', 'HEAD');
  const outDir = options.out ?? join(projectRoot, 'test', 'fixtures', 'histories', commit);
  mkdirSync(outDir, { recursive: true });
  console.log(`recording with the code of ${commit}${dirty ? ' (with uncommitted changes!)' : ''} into ${relative(process.cwd(), outDir) || '.'}`);

  quietWorkerRuntime();
  const server = await startTemporalDevServer({});
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  const secrets = new Set<string>();
  const platforms: TestPlatform[] = [];
  const platformOptions = { environments: ENVIRONMENTS };
  try {
    const main = await startTestPlatform(platformOptions);
    platforms.push(main);
    let polling: Promise<TestPlatform> | undefined;
    const recorder: Recorder = {
      main,
      polling: () => {
        polling ??= startTestPlatform({ ...platformOptions, approvalPollIntervalMs: 1_000 }).then((p) => {
          platforms.push(p);
          return p;
        });
        return polling;
      },
      secret: (value) => secrets.add(value),
    };
    const bundle = await workflowBundle();

    for (const scenario of SCENARIOS) {
      // Scenarios build on earlier ones (landing zones updated, then decommissioned): --only still runs those silently.
      const wanted = !options.only || options.only.has(scenario.name);
      const started = Date.now();
      const recorded = await scenario.run(recorder);
      if (!wanted) continue;
      const platform = recorded.platform ?? main;
      const handle = platform.client.workflow.getHandle(recorded.workflowId, recorded.runId);
      const history = scenario.waiting ? await settledHistory(platform, recorded) : await handle.fetchHistory();
      if (scenario.waiting) await handle.terminate('recorded for the replay suite');

      for (const p of platforms) {
        for (const value of [p.webhookSecret, p.env.SERVICENOW_PASSWORD ?? '', ...Object.values(p.tokens)]) secrets.add(value);
        for (const key of [p.config.payloadKeys?.current, ...(p.config.payloadKeys?.previous ?? [])]) {
          if (key) for (const encoding of ['hex', 'base64', 'base64url'] as const) secrets.add(key.toString(encoding));
        }
      }
      await decodePayloads(history, payloadCodecFor(platform.config));
      const left = encryptedLeft(history);
      if (left > 0) throw new Error(`${scenario.name}: ${left} payloads are still encrypted`);
      const text = historyJsonText(history);
      const everything = [text, ...allText(history.events)].join('\n');
      const leaked = [...secrets].filter((s) => s.length >= 8 && everything.includes(s));
      if (leaked.length > 0) throw new Error(`${scenario.name}: the history holds ${leaked.length} secret(s) (test tokens, webhook secret, password, key)`);

      // It must replay with the code it was recorded with, from the file as written.
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: scenario.name }, loadHistory(JSON.parse(text)));
      writeFileSync(join(outDir, `${scenario.name}.json`), `${text}\n`);
      const events = history.events ?? [];
      const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
      const lastEvent = JSON.parse(text).events.at(-1)?.eventType ?? eventTypeName(events.at(-1));
      console.log(`${scenario.name.padEnd(50)} ${type.padEnd(34)} ${String(lastEvent).padEnd(42)} ${events.length} events, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    for (const platform of platforms.reverse()) await platform.stop().catch((error: unknown) => console.error('stopping a platform:', error));
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
