/**
 * The configuration hierarchy over HTTP against a real platform: who may read and write which
 * scope, what is refused and how, and that what the API wrote is on disk for other processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPlatformStore } from '../../shared/store';
import { startTestPlatform, type HttpResult, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;
before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

const put = (path: string, body: unknown, token?: string): Promise<HttpResult> => platform.http('PUT', `/v1/config/${path}`, body, { token });
const del = (path: string, token?: string): Promise<HttpResult> => platform.http('DELETE', `/v1/config/${path}`, undefined, { token });
const get = (path: string, token?: string): Promise<HttpResult> => platform.http('GET', `/v1/config/${path}`, undefined, { token });
/** One entry of `GET /v1/config/{tenant}/{project}`. */
interface ResolvedEntry {
  key: string;
  value?: string;
  secretRef?: string;
  secret: boolean;
  scope: string;
  environment: string | null;
}

const fields = (result: HttpResult): string[] => (result.body.errors as { field: string }[]).map((e) => e.field);

function giveLedgerALandingZone(): void {
  platform.store.landingZones.register({ project: 'ledger', tenant: 'retail', projectClass: 'java', environments: ['dev', 'prod'], workflowId: 'landing-zone.ledger', runId: 'fixture', resources: {} });
}

describe('configuration API', () => {
  // Runs first: the later tests work on ledger once it has its landing zone (tenant retail).
  it('when a project has no landing zone yet, then its owner may neither read nor write it, a tenant admin may seed it, and once the zone exists the owner may', async () => {
    const { ledgerOwner, retailAdmin } = platform.tokens;
    const write = await put('tenants/retail/projects/ledger/entries/service.port', { value: '8080' }, ledgerOwner);
    assert.equal(write.status, 403);
    assert.match(write.body.detail, /no landing zone yet.*needs platform-admin or tenant-admin:retail/);
    assert.equal((await get('retail/ledger', ledgerOwner)).status, 403);
    assert.equal((await put('tenants/retail/projects/ledger/entries/service.port', { value: '8080' }, retailAdmin)).status, 201);
    // Seeded, but nothing resolves yet: the project has no landing zone (so no environments).
    const unresolved = await get('retail/ledger', retailAdmin);
    assert.equal(unresolved.status, 404);
    assert.match(unresolved.body.detail, /has no landing zone/);

    giveLedgerALandingZone();
    assert.equal((await put('tenants/retail/projects/ledger/entries/service.port', { value: '8081' }, ledgerOwner)).status, 200);
    const read = await get('retail/ledger', ledgerOwner);
    assert.equal(read.status, 200);
    assert.equal(read.body.entries.find((e: { key: string }) => e.key === 'service.port').value, '8081');
    const elsewhere = await get('retail/ledger?environment=qa', ledgerOwner);
    assert.equal(elsewhere.status, 404);
    assert.match(elsewhere.body.detail, /has no environment "qa"/);
  });

  it('when each role writes a scope it holds, then 201 on create, 200 on update, and the answer is the stored entry', async () => {
    const { admin, retailAdmin, ledgerOwner } = platform.tokens;
    const created = await put('global/entries/LOG_LEVEL', { value: 'info' }, admin);
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('content-type')?.startsWith('application/json'), true);
    assert.deepEqual({ ...created.body, updatedAt: typeof created.body.updatedAt }, {
      key: 'LOG_LEVEL',
      value: 'info',
      secret: false,
      scope: 'global',
      environment: null,
      updatedBy: 'ci-admin',
      updatedAt: 'string',
    });
    assert.equal((await put('global/entries/LOG_LEVEL', { value: 'info' }, admin)).status, 200);

    const tenant = await put('tenants/retail/entries/LOG_LEVEL', { value: 'warn', environment: 'prod' }, retailAdmin);
    assert.equal(tenant.status, 201);
    assert.deepEqual([tenant.body.tenant, tenant.body.scope, tenant.body.environment, tenant.body.updatedBy], ['retail', 'tenant', 'prod', 'retail-admin']);

    const secret = await put('tenants/retail/projects/ledger/entries/db.password', { secretRef: 'vault://kv/ledger/db#password' }, ledgerOwner);
    assert.equal(secret.status, 201);
    assert.deepEqual([secret.body.tenant, secret.body.project, secret.body.secretRef, secret.body.secret, 'value' in secret.body], ['retail', 'ledger', 'vault://kv/ledger/db#password', true, false]);

    // The tenant's admin and the platform admin may write project scope too.
    assert.equal((await put('tenants/retail/projects/ledger/entries/FEATURE_X', { value: 'on' }, retailAdmin)).status, 201);
    assert.equal((await put('tenants/retail/projects/ledger/entries/FEATURE_X', { value: 'off' }, admin)).status, 200);
    assert.equal((await put('tenants/retail/entries/TEAM', { value: 'retail' }, admin)).status, 201);
  });

  it('when a project resolves its configuration, then each entry names the scope and environment it came from and secrets show only their reference', async () => {
    const { admin, ledgerOwner } = platform.tokens;
    await put('global/entries/REGION', { value: 'eu-west-1' }, admin);
    const prod = await get('retail/ledger?environment=prod', ledgerOwner);
    assert.equal(prod.status, 200);
    assert.deepEqual([prod.body.tenant, prod.body.project, prod.body.environment], ['retail', 'ledger', 'prod']);
    const byKey = Object.fromEntries((prod.body.entries as ResolvedEntry[]).map((e) => [e.key, e]));
    assert.deepEqual(Object.keys(byKey), ['FEATURE_X', 'LOG_LEVEL', 'REGION', 'TEAM', 'db.password', 'service.port'], 'sorted by key');
    assert.deepEqual(
      (['LOG_LEVEL', 'REGION', 'FEATURE_X', 'db.password'] as const).map((k) => {
        const { value, secretRef, secret, scope, environment } = byKey[k] ?? assert.fail(`no ${k}`);
        return [k, value ?? secretRef, secret, scope, environment];
      }),
      [
        ['LOG_LEVEL', 'warn', false, 'tenant', 'prod'],
        ['REGION', 'eu-west-1', false, 'global', null],
        ['FEATURE_X', 'off', false, 'project', null],
        ['db.password', 'vault://kv/ledger/db#password', true, 'project', null],
      ],
    );
    assert.equal('value' in (byKey['db.password'] ?? {}), false);

    const dev = await get('retail/ledger?environment=dev', ledgerOwner);
    const { value, scope, environment } = (dev.body.entries as ResolvedEntry[]).find((e) => e.key === 'LOG_LEVEL') ?? assert.fail('no LOG_LEVEL');
    assert.deepEqual([value, scope, environment], ['info', 'global', null], 'in dev the tenant\'s prod entry does not apply');
    const generic = await get('retail/ledger', ledgerOwner);
    assert.equal(generic.body.environment, null);
  });

  it('when a role writes outside what it holds, then 403 names the role it needs and nothing changes', async () => {
    const { retailAdmin, ledgerOwner, payments } = platform.tokens;
    const refusals: [Promise<HttpResult>, RegExp][] = [
      [put('global/entries/REGION', { value: 'us' }, retailAdmin), /retail-admin may not write global configuration: needs platform-admin$/],
      [put('global/entries/REGION', { value: 'us' }, payments), /needs platform-admin$/],
      [put('tenants/wholesale/entries/X', { value: '1' }, retailAdmin), /needs platform-admin or tenant-admin:wholesale$/],
      [put('tenants/retail/entries/X', { value: '1' }, ledgerOwner), /needs platform-admin or tenant-admin:retail$/],
      [put('tenants/retail/projects/shop/entries/X', { value: '1' }, ledgerOwner), /needs platform-admin or tenant-admin:retail or project-owner:shop$/],
      // A deploy token may read its project's configuration, not write it.
      [put('tenants/retail/projects/payments/entries/X', { value: '1' }, payments), /ci-payments .*needs .*project-owner:payments$/],
      [del('global/entries/REGION', ledgerOwner), /needs platform-admin$/],
      [del('tenants/retail/entries/LOG_LEVEL?environment=prod', ledgerOwner), /needs platform-admin or tenant-admin:retail$/],
    ];
    for (const [request, detail] of refusals) {
      const result = await request;
      assert.equal(result.status, 403, JSON.stringify(result.body));
      assert.equal(result.headers.get('content-type')?.startsWith('application/problem+json'), true);
      assert.match(result.body.detail, detail);
    }
    const prod = await get('retail/ledger?environment=prod');
    const values = Object.fromEntries((prod.body.entries as { key: string; value?: string }[]).map((e) => [e.key, e.value]));
    assert.deepEqual([values.REGION, values.LOG_LEVEL, values.X], ['eu-west-1', 'warn', undefined]);
  });

  it('when a project token reads, then it sees its own project in its own tenant and nothing else', async () => {
    const { payments, ledgerOwner, admin } = platform.tokens;
    await put('tenants/wholesale/entries/WHOLESALE_ONLY', { value: '1' }, admin);
    const own = await get('retail/payments?environment=dev', payments);
    assert.equal(own.status, 200);
    assert.equal(own.body.entries.some((e: { key: string }) => e.key === 'TEAM'), true, 'sees its tenant\'s entries');

    const otherProject = await get('retail/ledger', payments);
    assert.equal(otherProject.status, 403);
    assert.match(otherProject.body.detail, /a token for project ledger/);
    // Naming another tenant in the path must not reveal that tenant's entries.
    const otherTenant = await get('wholesale/payments', payments);
    assert.equal(otherTenant.status, 404);
    assert.match(otherTenant.body.detail, /project "payments" is not in tenant "wholesale"/);
    assert.equal((await put('tenants/wholesale/projects/ledger/entries/X', { value: '1' }, ledgerOwner)).status, 404);
    assert.equal((await get('retail/payments', platform.tokens.retailAdmin)).status, 200);
  });

  it('when the body, path or query is wrong, then 400 names the field and nothing is written', async () => {
    const cases: [string, unknown, string[]][] = [
      ['global/entries/X', {}, ['value']],
      ['global/entries/X', { value: '1', secretRef: 'vault://kv/x' }, ['value']],
      ['global/entries/X', { value: 1 }, ['value']],
      ['global/entries/X', { value: '1', extra: true }, ['extra']],
      ['global/entries/X', { value: '1', environment: 'Prod' }, ['environment']],
      ['global/entries/X', { value: 'x'.repeat(5000) }, ['value']],
      ['global/entries/SMTP_PASSWORD', { value: 'hunter2' }, ['value']],
      ['global/entries/db.url', { value: 'postgres://app:hunter2@db/app' }, ['value']],
      ['global/entries/SMTP_PASSWORD', { secretRef: 'hunter2' }, ['secretRef']],
      ['global/entries/SMTP_PASSWORD', { secretRef: 'https://user:hunter2@vault.internal/x' }, ['secretRef']],
      ['global/entries/1X', { value: '1' }, ['key']],
      ['tenants/Retail!/entries/X', { value: '1' }, ['tenant']],
      ['tenants/retail/projects/-ledger/entries/X', { value: '1' }, ['project']],
    ];
    for (const [path, body, expected] of cases) {
      const result = await put(path, body);
      assert.equal(result.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}`);
      assert.deepEqual(fields(result), expected, `${path} ${JSON.stringify(body).slice(0, 80)}`);
      assert.equal(JSON.stringify(result.body).includes('hunter2'), false, 'the answer never repeats a refused value');
    }
    const secret = await put('global/entries/SMTP_PASSWORD', { value: 'hunter2' });
    assert.match(secret.body.errors[0].message, /secretRef/);
    assert.deepEqual(fields(await get('retail/ledger?environment=PROD')), ['environment']);
    assert.deepEqual(fields(await del('global/entries/X?environment=a_b')), ['environment']);
    assert.equal((await platform.http('PUT', '/v1/config/global/entries/X', undefined, { raw: 'value=1', headers: { 'content-type': 'text/plain' } })).status, 415);

    const resolved = await get('retail/ledger');
    assert.equal(resolved.body.entries.some((e: { key: string }) => ['X', 'SMTP_PASSWORD', 'db.url', '1X'].includes(e.key)), false);
  });

  it('when there is no bearer token, then 401', async () => {
    assert.equal((await platform.http('GET', '/v1/config/retail/ledger', undefined, { token: null })).status, 401);
    assert.equal((await platform.http('PUT', '/v1/config/global/entries/X', { value: '1' }, { token: null })).status, 401);
  });

  it('when an entry is deleted, then 204, and deleting what does not exist is 404', async () => {
    const { retailAdmin, ledgerOwner } = platform.tokens;
    await put('tenants/retail/entries/TEMP', { value: '1', environment: 'dev' }, retailAdmin);
    const generic = await del('tenants/retail/entries/TEMP', retailAdmin);
    assert.equal(generic.status, 404, 'the all-environments entry does not exist');
    assert.match(generic.body.detail, /no tenant entry "TEMP" for all environments/);
    assert.equal((await del('tenants/retail/entries/TEMP?environment=dev', retailAdmin)).status, 204);
    assert.equal((await del('tenants/retail/entries/TEMP?environment=dev', retailAdmin)).status, 404);

    await put('tenants/retail/projects/ledger/entries/TEMP', { value: '1' }, ledgerOwner);
    const removed = await del('tenants/retail/projects/ledger/entries/TEMP', ledgerOwner);
    assert.equal(removed.status, 204);
    assert.equal(removed.body, undefined);
    assert.equal((await del('global/entries/NEVER_SET')).status, 404);
    assert.equal((await get('retail/ledger')).body.entries.some((e: { key: string }) => e.key === 'TEMP'), false);
  });

  it('when another process opens the database the API wrote, also after closing and re-opening it, then it sees the same entries', async () => {
    await put('tenants/retail/projects/ledger/entries/db.password', { secretRef: 'vault://kv/ledger/db#password-v2', environment: 'prod' });
    const viaApi = (await get('retail/ledger?environment=prod')).body.entries as ResolvedEntry[];
    for (let i = 0; i < 2; i++) {
      const other = openPlatformStore(platform.config.databaseFile);
      const direct = other.configuration.resolve('retail', 'ledger', 'prod').map(({ key, scope, environment, value, secretRef }) => ({
        key,
        ...(secretRef !== undefined ? { secretRef } : { value }),
        scope,
        environment,
      }));
      other.close();
      assert.deepEqual(direct, viaApi.map(({ key, scope, environment, value, secretRef }) => ({ key, ...(secretRef !== undefined ? { secretRef } : { value }), scope, environment })));
    }
    assert.equal(viaApi.find((e) => e.key === 'db.password')?.secretRef, 'vault://kv/ledger/db#password-v2');
  });
});
