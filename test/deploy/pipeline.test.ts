/**
 * The deploy pipeline end to end on a real Temporal server: HTTP API → workflow → ServiceNow
 * simulator over HTTP → GitOps repository on disk. No mocks.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { dataConverterFor, payloadCodecFor } from '../../shared/codec/data-converter';
import { projectNamespace } from '../../shared/contracts/deploy';
import { GitOpsRepo, serviceDir, trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { workflowBundle } from '../helpers/temporal';

let platform: TestPlatform;
let repo: GitOpsRepo;



function image(service = 'ledger', digest = uniqueDigest()): string {
  return `registry.example.com/payments/${service}:1.4.2@${digest}`;
}

before(async () => {
  platform = await startTestPlatform();
  repo = new GitOpsRepo(platform.config.gitops.repoDir);
});
after(async () => {
  await platform.stop();
});

describe('deploy pipeline', () => {
  it('when a staging deployment is approved in ServiceNow, then it is committed to the GitOps repo and the change closes successful', async () => {
    const img = image('ledger');
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ environment: 'staging', image: img, scanReport: trivyReport(img, ['HIGH', 'MEDIUM']) }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.created, true);
    assert.match(started.body.links.temporalUi, /\/namespaces\/default\/workflows\/deploy\.payments\.ledger\.staging\./);
    const id: string = started.body.deploymentId;

    const waiting = await platform.waitForStatus(id, 'awaiting_approval');
    assert.ok(waiting.change?.number.startsWith('CHG'));
    assert.equal(waiting.approval.required, true);
    assert.ok(waiting.approval.deadline);
    assert.equal(waiting.scan?.counts.HIGH, 1);
    assert.equal(waiting.scan?.passed, true);
    assert.equal(waiting.scan?.scanned, true);

    const approved = await platform.simulator('approve', waiting.change!.number, 'jane.approver', 'looks good');
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.webhook.status, 202);

    const done = await platform.waitForStatus(id, 'succeeded');
    assert.deepEqual(
      done.steps.map((s) => [s.name, s.status]),
      [
        ['scan', 'succeeded'],
        ['render', 'succeeded'],
        ['openChange', 'succeeded'],
        ['awaitApproval', 'succeeded'],
        ['deploy', 'succeeded'],
        ['wireMesh', 'succeeded'],
        ['verify', 'succeeded'],
        ['closeChange', 'succeeded'],
      ],
    );
    for (const step of done.steps) assert.ok(step.startedAt && step.endedAt, `step ${step.name} has times`);
    assert.equal(done.approval.decision, 'approved');
    assert.equal(done.approval.approver, 'jane.approver');
    assert.equal(done.approval.via, 'update');
    assert.equal(done.approval.comment, 'looks good');
    assert.equal(done.change?.outcome, 'successful');

    const namespace = projectNamespace('payments', 'staging');
    const appFiles = repo.files(serviceDir(namespace, 'ledger', 'app'));
    const meshFiles = repo.files(serviceDir(namespace, 'ledger', 'mesh'));
    assert.equal(appFiles.length, 3, appFiles.join(','));
    assert.equal(meshFiles.length, 2, meshFiles.join(','));
    const deployment = repo.show(appFiles.find((f) => f.includes('deployment')) ?? '');
    assert.match(deployment, new RegExp(img.split(':1.4.2')[0]!.replace(/\./g, '\\.') + '@sha256:'), 'image pinned by digest');
    const runCommits = repo.commitsWithTrailer('Platform-Run', started.body.runId);
    assert.equal(runCommits.length, 2, 'one commit for deploy, one for the mesh');
    assert.ok(repo.commitsWithTrailer('Change', done.change!.number).length >= 2, 'commits name the change');

    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.state, '3');
    assert.equal(change?.close_code, 'successful');

    const status = await platform.http('GET', `/v1/deployments/${id}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'succeeded');
    assert.equal(status.body.release.pinnedImage.endsWith(img.split('@')[1]!), true);

    // Operators find the run in the Temporal UI by these attributes.
    const found: string[] = [];
    const query = `DeployProject = "payments" AND DeployService = "ledger" AND DeployEnvironment = "staging" AND ChangeNumber = "${done.change!.number}" AND DeployStage = "done"`;
    for (let i = 0; i < 20 && found.length === 0; i++) {
      for await (const run of platform.client.workflow.list({ query })) found.push(run.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(found, [id]);
    const description = await platform.client.workflow.getHandle(id).describe();
    assert.equal(await description.staticSummary(), 'Deploy ledger to payments/staging');

    // Replaying the recorded history with today's workflow code must not diverge.
    const history = await platform.client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: dataConverterFor(platform.config) }, history, id);
  });

  it('when deploying to dev, then no approval is awaited and a pre-approved standard change is used', async () => {
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'ledger-dev', image: image('ledger-dev') }));
    assert.equal(started.status, 202);
    const done = await platform.waitForStatus(started.body.deploymentId, 'succeeded');
    assert.equal(done.scan?.scanned, false);
    assert.match(done.steps.find((s) => s.name === 'scan')?.detail ?? '', /not scanned/);
    const approvalStep = done.steps.find((s) => s.name === 'awaitApproval');
    assert.equal(approvalStep?.status, 'skipped');
    assert.equal(done.approval.required, false);
    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.type, 'standard');
    assert.equal(change?.close_code, 'successful');

    // Operators in the Temporal UI: each activity call says what it does.
    const history = await platform.client.workflow.getHandle(started.body.deploymentId, started.body.runId).fetchHistory();
    const codec = payloadCodecFor(platform.config);
    const summaries: string[] = [];
    for (const event of history.events ?? []) {
      const summary = event.activityTaskScheduledEventAttributes ? event.userMetadata?.summary : undefined;
      if (!summary) continue;
      const [decoded] = await codec.decode([summary]);
      summaries.push(JSON.parse(Buffer.from(decoded?.data ?? new Uint8Array()).toString('utf8')) as string);
    }
    for (const expected of ['open the change request in ServiceNow', 'deploy the workload: Deployment, Service, ServiceAccount', 'wire the mesh: VirtualService and DestinationRule', 'close the change request in ServiceNow with the outcome']) {
      assert.ok(summaries.includes(expected), `${expected} in ${JSON.stringify(summaries)}`);
    }
  });

  it('when the approver rejects, then nothing is deployed, the change is cancelled and the status is rejected', async () => {
    const img = image('rejected-svc');
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'rejected-svc', environment: 'staging', image: img, scanReport: trivyReport(img) }));
    const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
    const rejected = await platform.simulator('reject', waiting.change!.number, 'bob.cab', 'not during the freeze');
    assert.equal(rejected.body.webhook.status, 202);
    const done = await platform.waitForStatus(started.body.deploymentId, 'rejected');
    assert.equal(done.error?.type, 'ApprovalRejected');
    assert.match(done.error?.message ?? '', /bob\.cab.*freeze/);
    assert.equal(done.steps.some((s) => s.name === 'deploy'), false);
    assert.deepEqual(repo.files(serviceDir(projectNamespace('payments', 'staging'), 'rejected-svc', 'app')), []);
    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.state, '4');
  });

  it('when nobody approves before the deadline, then the run ends expired and the change is cancelled', async () => {
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'slow-svc', environment: 'hurry', image: image('slow-svc') }));
    const done = await platform.waitForStatus(started.body.deploymentId, 'expired', 30_000);
    assert.equal(done.approval.decision, 'expired');
    assert.equal(done.error?.type, 'ApprovalExpired');
    assert.deepEqual(repo.files(serviceDir(projectNamespace('payments', 'hurry'), 'slow-svc', 'app')), []);
    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.state, '4');
    // A late approval is refused: the run is no longer waiting.
    const late = await platform.simulator('approve', done.change!.number);
    assert.equal(late.status, 409);
  });

  it('when the run is cancelled while waiting for approval, then the change is cancelled and nothing is deployed', async () => {
    const img = image('cancel-svc');
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'cancel-svc', environment: 'staging', image: img, scanReport: trivyReport(img) }));
    const id: string = started.body.deploymentId;
    await platform.waitForStatus(id, 'awaiting_approval');
    const cancelled = await platform.http('POST', `/v1/deployments/${id}/cancel`);
    assert.equal(cancelled.status, 202);
    const done = await platform.waitForStatus(id, 'cancelled');
    assert.equal(done.change?.outcome, 'cancelled');
    const interrupted = done.steps.find((s) => s.name === 'awaitApproval');
    assert.deepEqual([interrupted?.status, interrupted?.detail], ['cancelled', 'interrupted: the run was cancelled'], 'the interrupted step says so');
    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.state, '4');
    const again = await platform.http('POST', `/v1/deployments/${id}/cancel`);
    assert.equal(again.status, 409);
  });

  it('when wiring the mesh fails, then the deploy commit is reverted, the change closes unsuccessful and the status is rolled_back', async () => {
    // Make sure the repository exists, then let a real git hook refuse mesh changes.
    const warmup = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'warmup', image: image('warmup') }));
    await platform.waitForStatus(warmup.body.deploymentId, 'succeeded');
    const hook = join(platform.config.gitops.repoDir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\nif git diff --cached --name-only | grep -q "/mesh-fail/mesh/"; then echo "mesh changes are frozen" >&2; exit 1; fi\n');
    chmodSync(hook, 0o755);

    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'mesh-fail', image: image('mesh-fail') }));
    const done = await platform.waitForStatus(started.body.deploymentId, ['rolled_back', 'failed']);
    assert.equal(done.status, 'rolled_back', JSON.stringify(done));
    assert.equal(done.error?.type, 'ClusterTargetRejected');
    assert.match(done.error?.message ?? '', /mesh changes are frozen/);
    assert.deepEqual(
      done.steps.filter((s) => s.name.startsWith('undo:')).map((s) => [s.name, s.status]),
      [
        ['undo:wireMesh', 'succeeded'],
        ['undo:deploy', 'succeeded'],
      ],
    );
    assert.deepEqual(done.compensationErrors, []);
    const namespace = projectNamespace('payments', 'dev');
    assert.deepEqual(repo.files(serviceDir(namespace, 'mesh-fail', 'app')), [], 'deploy reverted');
    const runCommits = repo.commitsWithTrailer('Platform-Run', started.body.runId);
    assert.equal(runCommits.length, 2, 'the deploy commit and its revert');
    assert.match(runCommits[0]!.subject, /^Revert /);
    const [change] = await platform.changesOfRun(started.body.runId);
    assert.equal(change?.state, '3');
    assert.equal(change?.close_code, 'unsuccessful');
    assert.match(change?.close_notes ?? '', /ClusterTargetRejected/);
  });

  it('when the same Idempotency-Key is sent twice, then one run and one change exist', async () => {
    const body = deploymentBody({ service: 'idem', environment: 'staging', image: image('idem') });
    body.scanReport = trivyReport(body.image as string);
    const key = `build-${Date.now()}`;
    const first = await platform.http('POST', '/v1/deployments', body, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 202);
    await platform.waitForStatus(first.body.deploymentId, 'awaiting_approval');
    const second = await platform.http('POST', '/v1/deployments', body, { headers: { 'idempotency-key': key } });
    assert.equal(second.status, 200);
    assert.equal(second.body.created, false);
    assert.equal(second.body.runId, first.body.runId);
    assert.equal(second.body.status, 'awaiting_approval');
    // Without the key, the same project/service/environment/digest while open is the same run too.
    const third = await platform.http('POST', '/v1/deployments', body);
    assert.equal(third.body.runId, first.body.runId);
    // The same key for a different request is a conflict, and nothing starts.
    const other = await platform.http('POST', '/v1/deployments', { ...body, replicas: 1 }, { headers: { 'idempotency-key': key } });
    assert.equal(other.status, 409);
    assert.equal((await platform.changesOfRun(first.body.runId)).length, 1);
    await platform.http('POST', `/v1/deployments/${first.body.deploymentId}/cancel`);
    await platform.waitForStatus(first.body.deploymentId, 'cancelled');
  });

  it('when the scan finds a HIGH finding for prod, then the run fails with ScanPolicyViolation before any side effect', async () => {
    const img = image('vuln-svc');
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'vuln-svc', environment: 'prod', image: img, scanReport: trivyReport(img, ['HIGH', 'LOW']) }));
    const done = await platform.waitForStatus(started.body.deploymentId, 'failed');
    assert.equal(done.error?.type, 'ScanPolicyViolation');
    assert.match(done.error?.message ?? '', /1 HIGH/);
    assert.match(done.error?.message ?? '', /CVE-2024-1000/);
    assert.equal(done.scan?.passed, false);
    assert.equal(done.scan?.counts.HIGH, 1);
    assert.deepEqual(await platform.changesOfRun(started.body.runId), []);
    assert.deepEqual(repo.commitsWithTrailer('Platform-Run', started.body.runId), []);
  });

  it('when a scan is required and the report is missing or not about the image, then 422 names the reason and nothing starts', async () => {
    const img = image('noscan');
    const missing = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noscan', environment: 'staging', image: img }));
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.errors, [{ field: 'scanReport', message: 'required in staging' }]);
    const noEvidence = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noscan', environment: 'staging', image: img, scanReport: { SchemaVersion: 2, Results: [] } }));
    assert.equal(noEvidence.status, 422);
    assert.match(noEvidence.body.detail, /names no image digest/);
    const otherRepository = trivyReport(img.replace('registry.example.com/payments/noscan', 'registry.example.com/other/noscan'));
    const wrongRepo = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noscan', environment: 'staging', image: img, scanReport: otherRepository }));
    assert.equal(wrongRepo.status, 422);
    assert.match(wrongRepo.body.detail, /digest matches but the repository is not registry\.example\.com\/payments\/noscan/);
    let runs = 0;
    for await (const _ of platform.client.workflow.list({ query: `DeployService = "noscan"` })) runs++;
    assert.equal(runs, 0);
  });
});
