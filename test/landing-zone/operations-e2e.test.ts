/**
 * Updating and decommissioning landing zones over HTTP with the real adapters: the GitOps
 * repository, registry record, configuration store, bare-git repositories and issued tokens.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalSecretStore } from '../../activities/adapters/local-secrets';
import type { LandingZoneStatusView } from '../../shared/contracts/landing-zone';
import { GitOpsRepo, trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { until } from '../helpers/until';

let platform: TestPlatform;
let repo: GitOpsRepo;

before(async () => {
  platform = await startTestPlatform();
  repo = new GitOpsRepo(platform.config.gitops.repoDir);
});
after(async () => {
  await platform.stop();
});

const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'rejected', 'expired', 'cancelled'];
/** Quota, limits, three network policies, owners binding, PeerAuthentication, AuthorizationPolicy and the Namespace. */
const NAMESPACE_OBJECTS = 9;
/** Each probe is a status read through the API: no need to ask more often. */
const POLL_HTTP = { everyMs: 200 };

async function createZone(project: string, environments: string[]): Promise<LandingZoneStatusView> {
  const created = await platform.http('POST', '/v1/landing-zones', {
    project,
    tenant: 'retail',
    class: 'node-web',
    owners: { emails: [`${project}-owner@example.com`], group: `team-${project}` },
    environments,
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const done = await until(`landing zone ${project}`, async () => {
    const res = await platform.http('GET', `/v1/landing-zones/${project}`);
    return res.status === 200 && TERMINAL.includes(res.body.status) ? (res.body as LandingZoneStatusView) : undefined;
  }, POLL_HTTP);
  assert.equal(done.status, 'succeeded', JSON.stringify(done));
  return done;
}

/** The landing zone once the operation started as `runId` has ended. */
// The GET body is JSON of arbitrary shape; each test asserts the fields it cares about.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function operationEnded(project: string, runId: string): Promise<any> {
  return until(`operation ${runId} of ${project}`, async () => {
    const res = await platform.http('GET', `/v1/landing-zones/${project}`);
    const op = res.body.lastOperation;
    return op?.runId === runId && TERMINAL.includes(op.status) ? res.body : undefined;
  }, POLL_HTTP);
}

function commitsTouching(path: string): number {
  const out = execFileSync('git', ['-C', repo.dir, 'rev-list', '--count', 'HEAD', '--', path], { encoding: 'utf8' });
  return Number(out.trim());
}

describe('landing-zone update over HTTP', () => {
  it('when an environment is added, then exactly one namespace is created and nothing else changes', async () => {
    await createZone('grow', ['dev']);
    const devCommits = commitsTouching('clusters/local/grow-dev');
    const allCommits = commitsTouching('clusters');

    const patched = await platform.http('PATCH', '/v1/landing-zones/grow', { addEnvironments: ['staging'] });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.changes, ['add staging (namespace grow-staging)']);
    assert.equal(patched.body.approvalRequired, false);
    const zone = await operationEnded('grow', patched.body.runId);
    assert.equal(zone.lastOperation.status, 'succeeded', JSON.stringify(zone.lastOperation));

    assert.equal(commitsTouching('clusters'), allCommits + 1, 'one commit: the new namespace');
    assert.equal(commitsTouching('clusters/local/grow-dev'), devCommits, 'the existing namespace is untouched');
    assert.equal(repo.files('clusters/local/grow-staging/_namespace').length, NAMESPACE_OBJECTS);
    assert.deepEqual(zone.environments, ['dev', 'staging']);
    assert.deepEqual(zone.resources.namespaces.map((n: { namespace: string }) => n.namespace), ['grow-dev', 'grow-staging']);
    const config = await platform.http('GET', '/v1/config/retail/grow?environment=staging');
    const namespace = config.body.entries.find((e: { key: string }) => e.key === 'kubernetes.namespace');
    assert.equal(namespace.value, 'grow-staging');

    // The same request again: the environment is there already.
    const again = await platform.http('PATCH', '/v1/landing-zones/grow', { addEnvironments: ['staging'] });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /has staging already/);
  });

  it('when the quota changes, then only the quota of each namespace changes; the same quota again starts nothing', async () => {
    const before = execFileSync('git', ['-C', repo.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const patched = await platform.http('PATCH', '/v1/landing-zones/grow', { quota: { pods: 42 } });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    const zone = await operationEnded('grow', patched.body.runId);
    assert.equal(zone.lastOperation.status, 'succeeded', JSON.stringify(zone.lastOperation));
    const changed = execFileSync('git', ['-C', repo.dir, 'diff', '--name-only', before, 'HEAD'], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(changed, ['clusters/local/grow-dev/_namespace/resourcequota-default-quota.yaml', 'clusters/local/grow-staging/_namespace/resourcequota-default-quota.yaml']);
    assert.match(repo.show('clusters/local/grow-staging/_namespace/resourcequota-default-quota.yaml'), /pods: "?42"?/);

    const same = await platform.http('PATCH', '/v1/landing-zones/grow', { quota: { pods: 42 } });
    assert.equal(same.status, 200);
    assert.equal(same.body.changed, false);
  });

  it('when an added environment asks for approval, then the update waits for the approved change (signed webhook)', async () => {
    const patched = await platform.http('PATCH', '/v1/landing-zones/grow', { addEnvironments: ['prod'] });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    assert.equal(patched.body.approvalRequired, true);
    const waiting = await until('the update to wait for approval', async () => {
      const res = await platform.http('GET', '/v1/landing-zones/grow');
      return res.body.lastOperation?.status === 'awaiting_approval' ? res.body.lastOperation : undefined;
    }, POLL_HTTP);
    assert.deepEqual(repo.files('clusters/local/grow-prod/_namespace'), [], 'nothing before approval');
    const concurrent = await platform.http('PATCH', '/v1/landing-zones/grow', { quota: { pods: 50 } });
    assert.equal(concurrent.status, 409, 'one operation at a time');
    const approved = await platform.simulator('approve', waiting.change.number, 'cab.chair');
    assert.equal(approved.body.webhook.status, 202);
    const zone = await operationEnded('grow', patched.body.runId);
    assert.equal(zone.lastOperation.status, 'succeeded', JSON.stringify(zone.lastOperation));
    assert.equal(zone.lastOperation.approval.approver, 'cab.chair');
    assert.deepEqual(zone.environments, ['dev', 'staging', 'prod']);
    assert.equal(repo.files('clusters/local/grow-prod/_namespace').length, NAMESPACE_OBJECTS);
  });

  it('when an update is invalid, then it is refused with the reason and nothing starts', async () => {
    const unknownEnv = await platform.http('PATCH', '/v1/landing-zones/grow', { addEnvironments: ['qa'] });
    assert.equal(unknownEnv.status, 400);
    assert.equal(unknownEnv.body.errors[0].field, 'addEnvironments.0');
    const empty = await platform.http('PATCH', '/v1/landing-zones/grow', {});
    assert.equal(empty.status, 400);
    const removal = await platform.http('PATCH', '/v1/landing-zones/grow', { environments: ['dev'] });
    assert.equal(removal.status, 400, 'unknown fields are errors: environments cannot be replaced or removed');
    const missing = await platform.http('PATCH', '/v1/landing-zones/nowhere', { addEnvironments: ['dev'] });
    assert.equal(missing.status, 404);
    const notAdmin = await platform.http('PATCH', '/v1/landing-zones/grow', { quota: { pods: 1 } }, { token: platform.tokens.payments });
    assert.equal(notAdmin.status, 403);
  });
});

describe('landing-zone decommission over HTTP', () => {
  it('when a service is deployed, then decommission refuses and changes nothing; forced, it removes everything the landing zone created', async () => {
    const zone = await createZone('gone', ['dev']);
    const token = await createLocalSecretStore(platform.dataDir).read(zone.resources.ciTokenSecretRef!);
    const deploy = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'gone', service: 'web', image: `registry.localhost/retail/gone@${uniqueDigest()}` }), { token });
    assert.equal(deploy.status, 202, JSON.stringify(deploy.body));
    await platform.waitForStatus(deploy.body.deploymentId, 'succeeded');

    // Refused: a service is deployed.
    const refused = await platform.http('DELETE', '/v1/landing-zones/gone');
    assert.equal(refused.status, 202, JSON.stringify(refused.body));
    const afterRefusal = await operationEnded('gone', refused.body.runId);
    assert.equal(afterRefusal.lastOperation.error.type, 'LandingZoneInUse');
    assert.match(afterRefusal.lastOperation.error.message, /gone-dev\/web/);
    assert.equal(afterRefusal.state, 'active');
    assert.equal(repo.files('clusters/local/gone-dev/_namespace').length, NAMESPACE_OBJECTS, 'the namespace is still there');
    assert.ok(repo.files('clusters/local/gone-dev/web/app').length > 0, 'the service is still there');
    const stillDeploys = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'gone', service: 'web', image: `registry.localhost/retail/gone@${uniqueDigest()}` }), { token });
    assert.equal(stillDeploys.status, 202, 'deployments are let in again');
    await platform.waitForStatus(stillDeploys.body.deploymentId, 'succeeded');

    // Forced: everything goes.
    const forced = await platform.http('DELETE', '/v1/landing-zones/gone?force=true&reason=project%20closed');
    assert.equal(forced.status, 202, JSON.stringify(forced.body));
    assert.equal(forced.body.force, true);
    const gone = await operationEnded('gone', forced.body.runId);
    assert.equal(gone.lastOperation.status, 'succeeded', JSON.stringify(gone.lastOperation));
    assert.equal(gone.state, 'decommissioned');
    assert.equal(gone.registered, false);
    assert.deepEqual(repo.files('clusters/local/gone-dev'), []);
    assert.equal(existsSync(join(platform.dataDir, 'registry', 'retail', 'gone.json')), false);
    assert.equal(existsSync(join(platform.dataDir, 'repositories', 'retail', 'gone.git')), false);
    assert.equal(readdirSync(join(platform.dataDir, 'repositories', '.archive', 'retail')).filter((n) => n.startsWith('gone.')).length, 1, 'the source repository is archived');
    // No landing zone, so nothing resolves (404), and no project entry is left behind in the store.
    const config = await platform.http('GET', '/v1/config/retail/gone?environment=dev');
    assert.equal(config.status, 404);
    assert.deepEqual(platform.store.configuration.resolve('retail', 'gone', 'dev').filter((e) => e.scope === 'project'), []);
    const revoked = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'gone', service: 'web' }), { token });
    assert.equal(revoked.status, 401, 'the CI token is revoked');
    const noZone = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'gone', service: 'web' }));
    assert.equal(noZone.status, 422);

    // The project name is free again.
    await createZone('gone', ['dev']);
  });

  it('when deployments are in flight, then decommission answers 409 at once and starts nothing', async () => {
    await createZone('busy', ['dev', 'staging']);
    const image = `registry.localhost/retail/busy@${uniqueDigest()}`;
    const waiting = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'busy', environment: 'staging', service: 'api', image, scanReport: trivyReport(image) }));
    assert.equal(waiting.status, 202, JSON.stringify(waiting.body));
    await platform.waitForStatus(waiting.body.deploymentId, 'awaiting_approval');
    const refused = await until('visibility of the deployment run', async () => {
      const res = await platform.http('DELETE', '/v1/landing-zones/busy?force=true');
      return res.status === 409 ? res : undefined;
    }, POLL_HTTP);
    assert.deepEqual(refused.body.deployments, [waiting.body.deploymentId]);
    const zone = await platform.http('GET', '/v1/landing-zones/busy');
    assert.equal(zone.body.lastOperation, undefined);
    const badQuery = await platform.http('DELETE', '/v1/landing-zones/busy?force=yes');
    assert.equal(badQuery.status, 400);
    const missing = await platform.http('DELETE', '/v1/landing-zones/nowhere');
    assert.equal(missing.status, 404);
  });
});
