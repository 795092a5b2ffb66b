/** The configuration hierarchy over HTTP: who may read and write which scope, and what is refused. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

describe('configuration API', () => {
  it('when each role writes its own scope, then the project resolves the strongest entries and secrets show only their reference', async () => {
    const { admin, retailAdmin, ledgerOwner, payments } = platform.tokens;
    assert.equal((await platform.http('PUT', '/v1/config/global/entries/LOG_LEVEL', { value: 'info' }, { token: admin })).status, 201);
    assert.equal((await platform.http('PUT', '/v1/config/global/entries/LOG_LEVEL', { value: 'info' }, { token: admin })).status, 200);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/retail/entries/LOG_LEVEL', { value: 'warn', environment: 'prod' }, { token: retailAdmin })).status, 201);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/retail/projects/ledger/entries/db.password', { secretRef: 'vault://kv/ledger/db#password' }, { token: ledgerOwner })).status, 201);

    const prod = await platform.http('GET', '/v1/config/retail/ledger?environment=prod', undefined, { token: ledgerOwner });
    assert.equal(prod.status, 200);
    assert.deepEqual(
      prod.body.entries.map((e: { key: string; scope: string; environment: string | null; value?: string; secretRef?: string; secret: boolean }) => [e.key, e.scope, e.environment, e.value ?? e.secretRef, e.secret]),
      [
        ['LOG_LEVEL', 'tenant', 'prod', 'warn', false],
        ['db.password', 'project', null, 'vault://kv/ledger/db#password', true],
      ],
    );
    const dev = await platform.http('GET', '/v1/config/retail/ledger?environment=dev', undefined, { token: admin });
    assert.equal(dev.body.entries[0].scope, 'global');
    // A deploy token of another project may not read this one's configuration.
    assert.equal((await platform.http('GET', '/v1/config/retail/ledger', undefined, { token: payments })).status, 403);
    assert.equal((await platform.http('GET', '/v1/config/retail/payments', undefined, { token: payments })).status, 200);
  });

  it('when a role writes outside its scope, then 403 names the role it needs', async () => {
    const { retailAdmin, ledgerOwner, payments } = platform.tokens;
    const global = await platform.http('PUT', '/v1/config/global/entries/REGION', { value: 'eu' }, { token: retailAdmin });
    assert.equal(global.status, 403);
    assert.match(global.body.detail, /needs platform-admin/);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/wholesale/entries/X', { value: '1' }, { token: retailAdmin })).status, 403);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/retail/entries/X', { value: '1' }, { token: ledgerOwner })).status, 403);
    const other = await platform.http('PUT', '/v1/config/tenants/retail/projects/shop/entries/X', { value: '1' }, { token: ledgerOwner });
    assert.equal(other.status, 403);
    assert.match(other.body.detail, /project-owner:shop/);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/retail/projects/payments/entries/X', { value: '1' }, { token: payments })).status, 403, 'a deploy token is not an owner');
  });

  it('when the body or names are wrong, then 400 names the field and nothing is written', async () => {
    const both = await platform.http('PUT', '/v1/config/global/entries/X', { value: '1', secretRef: 'vault://a' });
    assert.equal(both.status, 400);
    assert.equal(both.body.errors[0].field, 'value');
    const secret = await platform.http('PUT', '/v1/config/global/entries/SMTP_PASSWORD', { value: 'hunter2' });
    assert.equal(secret.status, 400);
    assert.match(secret.body.errors[0].message, /secretRef/);
    assert.equal((await platform.http('PUT', '/v1/config/global/entries/SMTP_PASSWORD', { secretRef: 'not a reference' })).status, 400);
    assert.equal((await platform.http('PUT', '/v1/config/tenants/Retail!/entries/X', { value: '1' })).body.errors[0].field, 'tenant');
    assert.equal((await platform.http('GET', '/v1/config/retail/ledger?environment=PROD')).status, 400);
    const resolved = await platform.http('GET', '/v1/config/retail/ledger');
    assert.equal(resolved.body.entries.some((e: { key: string }) => e.key === 'X' || e.key === 'SMTP_PASSWORD'), false);
  });

  it('when an entry is deleted, then 204, and deleting it again is 404', async () => {
    await platform.http('PUT', '/v1/config/tenants/retail/entries/TEMP', { value: '1', environment: 'dev' });
    assert.equal((await platform.http('DELETE', '/v1/config/tenants/retail/entries/TEMP')).status, 404, 'the all-environments entry does not exist');
    assert.equal((await platform.http('DELETE', '/v1/config/tenants/retail/entries/TEMP?environment=dev')).status, 204);
    assert.equal((await platform.http('DELETE', '/v1/config/tenants/retail/entries/TEMP?environment=dev')).status, 404);
  });
});
