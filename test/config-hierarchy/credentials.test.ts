/**
 * CI tokens issued for a landing zone: stored as a secret reference, accepted by the API at once
 * for their own project only, idempotent under retry, gone after revocation.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalCredentialIssuer, createLocalSecretStore } from '../../activities/adapters/local-secrets';
import { deploymentBody, startTestPlatform, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

describe('issued CI tokens', () => {
  it('when a token is issued twice with the same key, then one token exists, only its reference is returned, and the API accepts it for its project only', async () => {
    const secrets = createLocalSecretStore(platform.dataDir);
    const issuer = createLocalCredentialIssuer({ tokens: platform.store.tokens, secrets });
    const first = await issuer.issueProjectToken({ tenant: 'retail', project: 'shop', idempotencyKey: 'landing-zone.shop/run/credentials' });
    const again = await issuer.issueProjectToken({ tenant: 'retail', project: 'shop', idempotencyKey: 'landing-zone.shop/run/credentials' });
    assert.deepEqual(again, first);
    assert.deepEqual(first, { subject: 'ci-shop', secretRef: 'local-secret://ci-tokens/retail/shop' });
    assert.equal(statSync(join(platform.dataDir, 'secrets', 'ci-tokens', 'retail', 'shop.secret')).mode & 0o777, 0o600);

    const token = await secrets.read(first.secretRef);
    // Authenticated and authorised for its own project: validation runs (400), not 401/403.
    const own = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'shop', environment: 'nowhere' }), { token });
    assert.equal(own.status, 400);
    const other = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'payments' }), { token });
    assert.equal(other.status, 403);
    assert.match(other.body.detail, /ci-shop may not deploy project "payments"/);

    assert.deepEqual(await issuer.revokeProjectToken({ idempotencyKey: 'landing-zone.shop/run/credentials' }), { revoked: true });
    assert.deepEqual(await issuer.revokeProjectToken({ idempotencyKey: 'landing-zone.shop/run/credentials' }), { revoked: false });
    assert.equal((await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'shop' }), { token })).status, 401);
    await assert.rejects(secrets.read(first.secretRef), /ENOENT/);
  });
});
