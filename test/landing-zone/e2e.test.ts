/**
 * Landing zones end to end over HTTP with the real adapters: GitOps namespaces, registry record,
 * configuration store, bare-git source repository from the class template, issued CI token,
 * outbox notification — and the new token deploying its own project at once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalGitSourceRepositories } from '../../activities/adapters/git-source';
import { createLocalSecretStore } from '../../activities/adapters/local-secrets';
import type { LandingZoneStatusView } from '../../shared/contracts/landing-zone';
import { GitOpsRepo } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;
let repo: GitOpsRepo;
const scratch = mkdtempSync(join(tmpdir(), 'lz-e2e-'));

before(async () => {
  platform = await startTestPlatform();
  repo = new GitOpsRepo(platform.config.gitops.repoDir);
});
after(async () => {
  await platform.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function landingZone(project: string, environments: string[], overrides: Record<string, unknown> = {}) {
  return { project, tenant: 'retail', class: 'node-web', owners: { emails: [`${project}-owner@example.com`], group: `team-${project}` }, environments, ...overrides };
}

async function waitFor(project: string, wanted: LandingZoneStatusView['status'][], timeoutMs = 60_000): Promise<LandingZoneStatusView> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await platform.http('GET', `/v1/landing-zones/${project}`);
    last = res.body;
    if (res.status === 200 && wanted.includes(res.body.status)) return res.body as LandingZoneStatusView;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`landing zone ${project} did not reach ${wanted.join('/')}; last: ${JSON.stringify(last)}`);
}

describe('landing zones over HTTP', () => {
  it('when a landing zone is requested, then everything is created and its token deploys the project at once', async () => {
    const created = await platform.http('POST', '/v1/landing-zones', landingZone('shop', ['dev', 'staging']));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.approvalRequired, false);
    const done = await waitFor('shop', ['succeeded', 'failed', 'rolled_back']);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));

    // Namespaces in the GitOps repository, with quota, policies and the owners' binding.
    const nsFiles = repo.files('clusters/local/shop-dev/_namespace');
    assert.deepEqual(nsFiles.map((f) => f.split('/').pop()).sort(), [
      'authorizationpolicy-allow-namespace-and-gateway.yaml',
      'limitrange-default-limits.yaml',
      'namespace-shop-dev.yaml',
      'networkpolicy-allow-mesh-ingress-gateway.yaml',
      'networkpolicy-allow-same-namespace.yaml',
      'networkpolicy-default-deny-ingress.yaml',
      'peerauthentication-default.yaml',
      'resourcequota-default-quota.yaml',
      'rolebinding-owners-edit.yaml',
    ]);
    assert.match(repo.show('clusters/local/shop-staging/_namespace/namespace-shop-staging.yaml'), /istio-injection: enabled/);
    assert.match(repo.show('clusters/local/shop-dev/_namespace/rolebinding-owners-edit.yaml'), /name: team-shop/);
    assert.match(repo.show('clusters/local/shop-dev/_namespace/peerauthentication-default.yaml'), /mode: STRICT/);

    // Image repository record, configuration, source repository, notification.
    assert.equal(done.resources.imageRepository?.uri, 'registry.localhost/retail/shop');
    const config = await platform.http('GET', '/v1/config/retail/shop?environment=dev');
    const entries = Object.fromEntries(config.body.entries.map((e: { key: string; value: string }) => [e.key, e.value]));
    assert.equal(entries['project.class'], 'node-web');
    assert.equal(entries['kubernetes.namespace'], 'shop-dev');
    assert.equal(entries['service.port'], '3000');
    const clone = join(scratch, 'shop');
    execFileSync('git', ['clone', '--quiet', done.resources.sourceRepository!.cloneUrl, clone]);
    assert.match(readFileSync(join(clone, 'scripts/deploy-to-platform.sh'), 'utf8'), /platformctl deploy --url "[^"]+" --project "shop"/);
    assert.match(readFileSync(join(clone, 'Jenkinsfile'), 'utf8'), /Deploy to staging/);
    const outbox = readFileSync(join(platform.dataDir, 'outbox', 'notifications.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const message = outbox.find((m) => m.to.includes('shop-owner@example.com'));
    assert.match(message.body, /local-secret:\/\/ci-tokens\/retail\/shop/);
    assert.doesNotMatch(JSON.stringify(done), /ci-shop-[A-Za-z0-9_-]{20,}/, 'the token never appears in the status');

    // The issued token deploys its own project right away, and nothing else.
    const token = await createLocalSecretStore(platform.dataDir).read(done.resources.ciTokenSecretRef!);
    // No port in the request: the project's class default (node-web: 3000) comes from its configuration.
    const body = deploymentBody({ project: 'shop', service: 'web', image: `registry.localhost/retail/shop@${uniqueDigest()}` });
    delete body.port;
    const deploy = await platform.http('POST', '/v1/deployments', body, { token });
    assert.equal(deploy.status, 202, JSON.stringify(deploy.body));
    const deployed = await platform.waitForStatus(deploy.body.deploymentId, 'succeeded');
    assert.equal(deployed.release?.namespace, 'shop-dev');
    const workload = repo.show('clusters/local/shop-dev/web/app/deployment-web.yaml');
    assert.match(workload, /containerPort: 3000/);
    assert.match(workload, /path: \/healthz/);
    const foreign = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'sneaky' }), { token });
    assert.equal(foreign.status, 403);

    // One landing zone per project.
    const again = await platform.http('POST', '/v1/landing-zones', landingZone('shop', ['dev']));
    assert.equal(again.status, 409);
  });

  it('when a landing zone includes prod, then it waits for an approved change first', async () => {
    const created = await platform.http('POST', '/v1/landing-zones', landingZone('vault', ['dev', 'prod'], { class: 'java' }));
    assert.equal(created.body.approvalRequired, true);
    const waiting = await waitFor('vault', ['awaiting_approval']);
    assert.deepEqual(repo.files('clusters/local/vault-dev/_namespace'), [], 'nothing before approval');
    const approved = await platform.simulator('approve', waiting.change!.number, 'cab.chair');
    assert.equal(approved.body.webhook.status, 202);
    const done = await waitFor('vault', ['succeeded', 'failed', 'rolled_back']);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.approval.approver, 'cab.chair');
  });

  it('when the source repository step fails, then the namespaces, registry record and configuration are undone and the project cannot deploy', async () => {
    // Someone else already owns the repository name: the step fails with ResourceConflict.
    await createLocalGitSourceRepositories({ rootDir: join(platform.dataDir, 'repositories') }).create({
      name: 'retail/broken',
      files: { 'README.md': 'squatter\n' },
      initialCommit: { message: 'squat', author: { name: 'someone', email: 'someone@example.com' } },
      idempotencyKey: 'not-the-landing-zone',
    });
    await platform.http('POST', '/v1/landing-zones', landingZone('broken', ['dev']));
    const done = await waitFor('broken', ['rolled_back', 'failed', 'succeeded']);
    assert.equal(done.status, 'rolled_back', JSON.stringify(done));
    assert.equal(done.error?.type, 'ResourceConflict');
    assert.deepEqual(
      done.steps.filter((s) => s.name.startsWith('undo:')).map((s) => s.name),
      ['undo:sourceRepository', 'undo:configuration', 'undo:imageRepository', 'undo:namespace-dev'],
    );
    assert.deepEqual(repo.files('clusters/local/broken-dev/_namespace'), []);
    // No landing zone, so nothing resolves (404), and no project entry is left behind in the store.
    const config = await platform.http('GET', '/v1/config/retail/broken?environment=dev');
    assert.equal(config.status, 404);
    assert.deepEqual(platform.store.configuration.resolve('retail', 'broken', 'dev').filter((e) => e.scope === 'project'), []);
    const deploy = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'broken' }));
    assert.equal(deploy.status, 422);
    assert.match(deploy.body.detail, /no landing zone/);
  });

  it('when a deployment targets an environment outside its landing zone, or a landing zone request is invalid, then 422 and 400', async () => {
    const prod = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'shop', environment: 'prod', image: `registry.localhost/retail/shop@${uniqueDigest()}` }));
    assert.equal(prod.status, 422);
    assert.equal(prod.body.errors[0].field, 'environment');
    const bad = await platform.http('POST', '/v1/landing-zones', landingZone('odd', ['dev', 'qa'], { class: 'cobol', owners: { emails: ['nope'], group: 'g' } }));
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['owners.emails.0']);
    const semantic = await platform.http('POST', '/v1/landing-zones', landingZone('odd', ['dev', 'qa'], { class: 'cobol' }));
    assert.deepEqual(semantic.body.errors.map((e: { field: string }) => e.field).sort(), ['class', 'environments.1']);
    const notAdmin = await platform.http('POST', '/v1/landing-zones', landingZone('odd', ['dev']), { token: platform.tokens.payments });
    assert.equal(notAdmin.status, 403);
  });

  it('when no worker answers, then the status still comes from what Temporal records', async () => {
    await platform.stopWorker();
    const res = await platform.http('GET', '/v1/landing-zones/shop');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'succeeded');
    assert.equal(res.body.registered, true);
    assert.match(res.body.detailsUnavailable, /no worker/);
  });
});
