/**
 * The landing-zone workflow's own logic — step order, approval, compensation in reverse order,
 * cancellation — on a real Temporal server with activities replaced by typed in-memory fakes that
 * record what they were asked to do. The adapters behind the real activities have their own
 * contract tests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { ChangeRequestActivities } from '../../activities/change-requests';
import type { ClusterChangeActivities } from '../../activities/cluster-changes';
import type { DeployActivities } from '../../activities/deploy';
import type { LandingZoneActivities } from '../../activities/landing-zone';
import {
  LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE,
  LANDING_ZONE_UPDATE_WORKFLOW_TYPE,
  LANDING_ZONE_WORKFLOW_TYPE,
  landingZoneOperationStatusQuery,
  landingZoneStatusQuery,
  type LandingZoneDecommissionInput,
  type LandingZoneDecommissionView,
  type LandingZoneInput,
  type LandingZoneOperationView,
  type LandingZoneSpec,
  type LandingZoneStatusView,
  type LandingZoneUpdateInput,
} from '../../shared/contracts/landing-zone';
import { approvalSignal } from '../../shared/contracts/run';
import type { ChangeVerdict } from '../../shared/domain';
import { quietWorkerRuntime, testTemporalAddress, workflowBundle } from '../helpers/temporal';

type Activities = DeployActivities & ChangeRequestActivities & ClusterChangeActivities & LandingZoneActivities;

/** Every call the fakes receive, in order: `name:detail`. */
let calls: string[] = [];
let failAt: string | undefined;
let changeCounter = 0;
/** What `inspectLandingZone` finds: set by each decommission test. */
let inspection: Awaited<ReturnType<LandingZoneActivities['inspectLandingZone']>> = { services: [], namespacesPresent: [], inFlight: [] };

function step(name: string, detail = ''): void {
  const call = detail ? `${name}:${detail}` : name;
  calls.push(call);
  if (failAt === name || failAt === call) throw ApplicationFailure.create({ type: 'ClusterTargetRejected', nonRetryable: true, message: `${name} refused by the test` });
}

/** What the fake ServiceNow records for the run's change: a test decides there before it signals. */
let recorded: ChangeVerdict = { kind: 'pending', detail: 'no decision yet' };

const unused = async (): Promise<never> => {
  throw new Error('not used by the landing-zone workflow');
};

const fakes: Activities = {
  scanImage: unused,
  renderRelease: unused,
  openChange: unused,
  deployRelease: unused,
  wireMesh: unused,
  verifyRollout: unused,
  /** Never decides: the decisions in these tests come as signals, checked with readChangeVerdict. Pending for an hour. */
  async awaitChangeDecision() {
    throw ApplicationFailure.create({ type: 'ApprovalPending', message: 'pending', nextRetryDelay: '1h', category: ApplicationFailureCategory.BENIGN });
  },
  async pollChangeVerdict() {
    throw ApplicationFailure.create({ type: 'ApprovalPending', message: 'pending', nextRetryDelay: '1h', category: ApplicationFailureCategory.BENIGN });
  },
  async readChangeVerdict() {
    return { verdict: recorded };
  },
  async closeChange({ outcome }) {
    step('closeChange', outcome);
    return { sysId: 'a'.repeat(32), number: 'CHG-X', state: '3', approval: 'approved', correlationId: 'x' };
  },
  async rollbackManifests({ idempotencyKey }) {
    step('undo:namespace', idempotencyKey.split('/').pop());
    return { rolledBack: true };
  },
  async openLandingZoneChange({ input }) {
    step('openChange', input.approval.required ? 'normal' : 'standard');
    changeCounter += 1;
    return { sysId: 'b'.repeat(32), number: `CHG${9_000_000 + changeCounter}`, state: '-5', approval: 'requested', correlationId: 'x' };
  },
  async applyNamespace({ spec }) {
    step('namespace', spec.namespace);
    return { revision: 'c'.repeat(40), previousRevision: null, changed: true };
  },
  async ensureImageRepository({ tenant, project }) {
    step('imageRepository', `${tenant}/${project}`);
    return { name: `${tenant}/${project}`, uri: `registry.localhost/${tenant}/${project}`, created: true };
  },
  async deleteImageRepository({ force }) {
    // Compensation of a creation passes no force; a decommission always says which.
    if (force === undefined) step('undo:imageRepository');
    else step('deleteImageRepository', `force=${force}`);
    return { deleted: true };
  },
  async deleteAllProjectConfiguration() {
    step('deleteConfiguration');
    return 3;
  },
  async archiveSourceRepository() {
    step('archiveSourceRepository');
    return { archived: true, location: '/tmp/.archive/retail/shop.abc.git' };
  },
  async reviseLandingZone({ environments }) {
    step('record', environments.join(','));
  },
  async setLandingZoneState({ state }) {
    step('state', state);
    return true;
  },
  async inspectLandingZone() {
    step('inspect');
    return inspection;
  },
  async clearLocation({ location }) {
    step('clear', location.component === 'namespace' ? location.namespace : `${location.namespace}/${location.service}/${location.component}`);
    return { revision: 'e'.repeat(40), previousRevision: 'f'.repeat(40), changed: true };
  },
  async openOperationChange({ approvalRequired }) {
    step('openChange', approvalRequired ? 'normal' : 'standard');
    changeCounter += 1;
    return { sysId: 'b'.repeat(32), number: `CHG${9_000_000 + changeCounter}`, state: '-5', approval: 'requested', correlationId: 'x' };
  },
  async sendNotification({ subject }) {
    step('notify', subject);
    return { messageId: 'msg-2' };
  },
  async writeProjectConfiguration({ entries }) {
    step('configuration', String(entries.length));
    return entries.map((e) => e.key);
  },
  async deleteProjectConfiguration() {
    step('undo:configuration');
  },
  async createSourceRepository({ input }) {
    step('sourceRepository', input.request.projectClass);
    return { name: 'retail/shop', cloneUrl: '/tmp/retail/shop.git', head: 'd'.repeat(40) };
  },
  async deleteSourceRepository() {
    step('undo:sourceRepository');
  },
  async issueProjectToken({ project }) {
    step('credentials', project);
    return { subject: `ci-${project}`, secretRef: `local-secret://ci-tokens/${project}` };
  },
  async revokeProjectToken() {
    step('undo:credentials');
  },
  async registerLandingZone({ input }) {
    step('register', input.request.project);
  },
  async unregisterLandingZone() {
    step('undo:register');
  },
  async notifyOwners({ resources }) {
    step('notify', resources.ciTokenSecretRef ?? 'no-token');
    return { messageId: 'msg-1' };
  },
};

function input(overrides: Partial<LandingZoneInput> = {}): LandingZoneInput {
  return {
    request: {
      project: `shop${randomUUID().slice(0, 6)}`,
      tenant: 'retail',
      projectClass: 'node-web',
      owners: { emails: ['owner@example.com'], group: 'team-shop' },
      environments: ['dev', 'prod'],
      requestedBy: 'platform-admin',
    },
    environments: [
      { name: 'dev', cluster: 'local', namespace: 'shop-dev' },
      { name: 'prod', cluster: 'local', namespace: 'shop-prod' },
    ],
    approval: { required: false, deadlineMs: 60_000, reason: 'no environment asks for it' },
    quota: { requestsCpu: '2', requestsMemory: '4Gi', limitsCpu: '4', limitsMemory: '8Gi', pods: 20 },
    containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    defaults: { port: 8080, readinessPath: '/healthz', livenessPath: '/healthz' },
    links: { apiUrl: 'http://localhost:8080', temporalUiUrl: 'http://localhost:8233' },
    ...overrides,
  };
}

let client: Client;
let connection: Connection;
let nativeConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `lz-test-${randomUUID()}`;

before(async () => {
  const address = await testTemporalAddress();
  quietWorkerRuntime();
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  nativeConnection = await NativeConnection.connect({ address });
  worker = await Worker.create({ connection: nativeConnection, taskQueue, activities: fakes, workflowBundle: await workflowBundle() });
  running = worker.run();
});

after(async () => {
  worker.shutdown();
  await running;
  await nativeConnection.close();
  await connection.close();
});

async function start(lzInput: LandingZoneInput) {
  calls = [];
  recorded = { kind: 'pending', detail: 'no decision yet' };
  return client.workflow.start(LANDING_ZONE_WORKFLOW_TYPE, { taskQueue, workflowId: `landing-zone.${lzInput.request.project}`, args: [lzInput] });
}

async function statusOf(handle: Awaited<ReturnType<typeof start>>, wanted: LandingZoneStatusView['status']): Promise<LandingZoneStatusView> {
  for (let i = 0; i < 100; i++) {
    const view = await handle.query(landingZoneStatusQuery);
    if (view.status === wanted) return view;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never reached ${wanted}`);
}

describe('landing-zone workflow', () => {
  it('when no approval is needed, then every resource is created in order and the owners are notified with the token reference', async () => {
    failAt = undefined;
    const lz = input();
    const handle = await start(lz);
    const result = (await handle.result()) as LandingZoneStatusView;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(calls, [
      'openChange:standard',
      'namespace:shop-dev',
      'namespace:shop-prod',
      `imageRepository:retail/${lz.request.project}`,
      'configuration:7',
      'sourceRepository:node-web',
      `credentials:${lz.request.project}`,
      `register:${lz.request.project}`,
      `notify:local-secret://ci-tokens/${lz.request.project}`,
      'closeChange:successful',
    ]);
    assert.equal(result.resources.ciTokenSecretRef, `local-secret://ci-tokens/${lz.request.project}`);
    assert.deepEqual(result.resources.namespaces.map((n) => n.namespace), ['shop-dev', 'shop-prod']);
    assert.equal(result.steps.find((s) => s.name === 'awaitApproval')?.status, 'skipped');
  });

  it('when the source repository cannot be created, then earlier steps are undone in reverse order and the run is rolled_back', async () => {
    failAt = 'sourceRepository';
    const handle = await start(input());
    await assert.rejects(handle.result(), WorkflowFailedError);
    const view = await handle.query(landingZoneStatusQuery);
    assert.equal(view.status, 'rolled_back');
    assert.equal(view.error?.type, 'ClusterTargetRejected');
    assert.deepEqual(calls.slice(calls.indexOf('sourceRepository:node-web')), [
      'sourceRepository:node-web',
      'undo:sourceRepository',
      'undo:configuration',
      'undo:imageRepository',
      'undo:namespace:namespace-prod',
      'undo:namespace:namespace-dev',
      'closeChange:unsuccessful',
    ]);
    failAt = undefined;
  });

  it('when approval is required and given, then the landing zone is created after the approval', async () => {
    failAt = undefined;
    const handle = await start(input({ approval: { required: true, deadlineMs: 60_000, reason: 'prod is included' } }));
    const waiting = await statusOf(handle, 'awaiting_approval');
    assert.deepEqual(calls, ['openChange:normal']);
    recorded = { kind: 'approved', approvers: ['cab.chair'] };
    await handle.signal(approvalSignal, { decision: 'approved', approver: 'cab.chair', changeNumber: waiting.change!.number });
    const result = (await handle.result()) as LandingZoneStatusView;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.approval.approver, 'cab.chair');
  });

  it('when the approver rejects, then nothing is created and the change is cancelled', async () => {
    failAt = undefined;
    const handle = await start(input({ approval: { required: true, deadlineMs: 60_000, reason: 'prod is included' } }));
    const waiting = await statusOf(handle, 'awaiting_approval');
    recorded = { kind: 'rejected', rejectedBy: ['cab.chair'], detail: 'rejected' };
    await handle.signal(approvalSignal, { decision: 'rejected', approver: 'cab.chair', changeNumber: waiting.change!.number, comment: 'no budget' });
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.deepEqual(calls, ['openChange:normal', 'closeChange:cancelled']);
    assert.equal((await handle.query(landingZoneStatusQuery)).status, 'rejected');
  });

  it('when the run is cancelled while waiting for approval, then the change is cancelled and nothing is created', async () => {
    failAt = undefined;
    const handle = await start(input({ approval: { required: true, deadlineMs: 60_000, reason: 'prod is included' } }));
    await statusOf(handle, 'awaiting_approval');
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.deepEqual(calls, ['openChange:normal', 'closeChange:cancelled']);
    assert.equal((await handle.query(landingZoneStatusQuery)).status, 'cancelled');
  });
});

const spec = (environments: string[]): LandingZoneSpec => ({
  owners: { emails: ['owner@example.com'], group: 'team-shop' },
  environments: environments.map((name) => ({ name, cluster: 'local', namespace: `shop-${name}` })),
  quota: { requestsCpu: '2', requestsMemory: '4Gi', limitsCpu: '4', limitsMemory: '8Gi', pods: 20 },
  containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  defaults: { port: 8080, readinessPath: '/healthz', livenessPath: '/healthz' },
});

function operationBase(environments: string[]) {
  return {
    project: `shop${randomUUID().slice(0, 6)}`,
    tenant: 'retail',
    projectClass: 'node-web',
    requestedBy: 'platform-admin',
    current: spec(environments),
    resources: { namespaces: environments.map((name) => ({ environment: name, namespace: `shop-${name}`, revision: 'a'.repeat(40) })), configurationKeys: [] },
    approval: { required: false, deadlineMs: 60_000, reason: 'no environment asks for it' },
    links: { apiUrl: 'http://localhost:8080', temporalUiUrl: 'http://localhost:8233' },
  };
}

function updateInput(overrides: Partial<LandingZoneUpdateInput> = {}): LandingZoneUpdateInput {
  const base = operationBase(['dev', 'prod']);
  return { ...base, addEnvironments: [{ name: 'staging', cluster: 'local', namespace: 'shop-staging' }], quota: base.current.quota, quotaChanged: false, ...overrides };
}

function decommissionInput(overrides: Partial<LandingZoneDecommissionInput> = {}): LandingZoneDecommissionInput {
  return { ...operationBase(['dev', 'prod']), force: false, creation: { workflowId: 'landing-zone.shop', runId: 'creation-run' }, ...overrides };
}

async function startOperation(type: string, args: LandingZoneUpdateInput | LandingZoneDecommissionInput) {
  calls = [];
  recorded = { kind: 'pending', detail: 'no decision yet' };
  return client.workflow.start(type, { taskQueue, workflowId: `landing-zone-operation.${args.project}`, args: [args] });
}

describe('landing-zone update workflow', () => {
  it('when an environment is added, then exactly one namespace is applied and the record lists it', async () => {
    failAt = undefined;
    const handle = await startOperation(LANDING_ZONE_UPDATE_WORKFLOW_TYPE, updateInput());
    const result = (await handle.result()) as LandingZoneOperationView;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(calls, [
      'openChange:standard',
      'namespace:shop-staging',
      'configuration:1',
      'record:dev,prod,staging',
      `notify:Your landing zone retail/${result.project} was updated`,
      'closeChange:successful',
    ]);
  });

  it('when only the quota changes, then every existing namespace is re-applied and no configuration is written', async () => {
    failAt = undefined;
    const args = updateInput({ addEnvironments: [], quotaChanged: true });
    args.quota = { ...args.current.quota, pods: 40 };
    const handle = await startOperation(LANDING_ZONE_UPDATE_WORKFLOW_TYPE, args);
    const result = (await handle.result()) as LandingZoneOperationView;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(calls.slice(1, 4), ['namespace:shop-dev', 'namespace:shop-prod', 'record:dev,prod']);
    assert.equal(result.steps.find((s) => s.name === 'configuration')?.status, 'skipped');
  });

  it('when the record cannot be written, then the new namespace and its configuration are undone in reverse order', async () => {
    failAt = 'record:dev,prod,staging';
    const handle = await startOperation(LANDING_ZONE_UPDATE_WORKFLOW_TYPE, updateInput());
    await assert.rejects(handle.result(), WorkflowFailedError);
    failAt = undefined;
    assert.deepEqual(calls.slice(calls.indexOf('record:dev,prod,staging')), [
      'record:dev,prod,staging',
      'record:dev,prod',
      'undo:configuration',
      'undo:namespace:namespace-add-staging',
      'closeChange:unsuccessful',
    ]);
    assert.equal((await handle.query(landingZoneOperationStatusQuery)).status, 'rolled_back');
  });
});

describe('landing-zone decommission workflow', () => {
  it('when services are deployed and force is not given, then it refuses, lets deployments in again and removes nothing', async () => {
    failAt = undefined;
    inspection = { services: [{ cluster: 'local', namespace: 'shop-dev', service: 'web' }], namespacesPresent: ['shop-dev', 'shop-prod'], inFlight: [] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput());
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.deepEqual(calls, ['openChange:standard', 'state:decommissioning', 'inspect', 'state:active', 'closeChange:unsuccessful']);
    const view = (await handle.query(landingZoneOperationStatusQuery)) as LandingZoneDecommissionView;
    assert.equal(view.error?.type, 'LandingZoneInUse');
    assert.match(view.error?.message ?? '', /shop-dev\/web/);
    assert.deepEqual(view.deployedServices, [{ namespace: 'shop-dev', service: 'web' }]);
  });

  it('when deployment runs are in flight, then it refuses even when forced', async () => {
    failAt = undefined;
    inspection = { services: [], namespacesPresent: ['shop-dev'], inFlight: [{ workflowId: 'deploy.shop.dev.web', runId: 'r1' }] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput({ force: true }));
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.equal(calls.filter((c) => c.startsWith('clear')).length, 0);
    assert.match((await handle.query(landingZoneOperationStatusQuery)).error?.message ?? '', /deploy\.shop\.dev\.web/);
  });

  it('when forced, then services, namespaces and every resource are removed, in order, and the source repository is archived', async () => {
    failAt = undefined;
    inspection = { services: [{ cluster: 'local', namespace: 'shop-dev', service: 'web' }], namespacesPresent: ['shop-dev', 'shop-prod'], inFlight: [] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput({ force: true }));
    const result = (await handle.result()) as LandingZoneDecommissionView;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(calls, [
      'openChange:standard',
      'state:decommissioning',
      'inspect',
      'clear:shop-dev/web/mesh',
      'clear:shop-dev/web/app',
      'clear:shop-dev',
      'clear:shop-prod',
      'deleteImageRepository:force=true',
      'undo:credentials',
      'deleteConfiguration',
      'archiveSourceRepository',
      'undo:register',
      `notify:Your landing zone retail/${result.project} was decommissioned`,
      'closeChange:successful',
    ]);
  });

  it('when the image repository refuses (it holds images), then the namespaces are restored and deployments are let in again', async () => {
    failAt = 'deleteImageRepository';
    inspection = { services: [], namespacesPresent: ['shop-dev', 'shop-prod'], inFlight: [] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput());
    await assert.rejects(handle.result(), WorkflowFailedError);
    failAt = undefined;
    assert.deepEqual(calls.slice(calls.indexOf('deleteImageRepository:force=false')), [
      'deleteImageRepository:force=false',
      'undo:namespace:remove-namespace-shop-prod',
      'undo:namespace:remove-namespace-shop-dev',
      'state:active',
      'closeChange:unsuccessful',
    ]);
    assert.equal((await handle.query(landingZoneOperationStatusQuery)).status, 'rolled_back');
  });

  it('when a step past the point of no return fails, then nothing is restored and the run fails saying where it stopped', async () => {
    failAt = 'archiveSourceRepository';
    inspection = { services: [], namespacesPresent: ['shop-dev'], inFlight: [] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput());
    await assert.rejects(handle.result(), WorkflowFailedError);
    failAt = undefined;
    assert.equal(calls.filter((c) => c.startsWith('undo:namespace') || c === 'state:active').length, 0);
    assert.equal(calls.at(-1), 'closeChange:unsuccessful');
    const view = await handle.query(landingZoneOperationStatusQuery);
    assert.equal(view.status, 'failed');
    assert.equal(view.stage, 'done');
  });

  it('when approval is required, then nothing is frozen or removed before the change is approved', async () => {
    failAt = undefined;
    inspection = { services: [], namespacesPresent: ['shop-dev'], inFlight: [] };
    const handle = await startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, decommissionInput({ approval: { required: true, deadlineMs: 60_000, reason: 'includes prod' } }));
    let waiting = await handle.query(landingZoneOperationStatusQuery);
    for (let i = 0; i < 100 && waiting.status !== 'awaiting_approval'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      waiting = await handle.query(landingZoneOperationStatusQuery);
    }
    assert.deepEqual(calls, ['openChange:normal']);
    recorded = { kind: 'approved', approvers: ['cab.chair'] };
    await handle.signal(approvalSignal, { decision: 'approved', approver: 'cab.chair', changeNumber: waiting.change!.number });
    assert.equal(((await handle.result()) as LandingZoneDecommissionView).status, 'succeeded');
  });
});
