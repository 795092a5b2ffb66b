/** The configuration repository: precedence, isolation between tenants and projects, durability. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStoreProjectConfiguration } from '../../activities/adapters/config-store';
import { openPlatformStore, type ConfigurationRepository } from '../../shared/store';
import { tempDbFile } from './temp-db';

/** `key → value@scope[/environment]` for a compact comparison. */
function resolved(configuration: ConfigurationRepository, tenant: string, project: string, environment?: string): Record<string, string> {
  return Object.fromEntries(
    configuration
      .resolve(tenant, project, environment)
      .map((e) => [e.key, `${e.value ?? e.secretRef}@${e.scope}${e.environment ? `/${e.environment}` : ''}`]),
  );
}

describe('configuration resolution', () => {
  it('when the same key is set at several scopes, then project beats tenant beats global', () => {
    const store = openPlatformStore(tempDbFile());
    const c = store.configuration;
    c.upsert({ scope: 'global', key: 'A' }, { value: 'g' }, 'admin');
    c.upsert({ scope: 'global', key: 'B' }, { value: 'g' }, 'admin');
    c.upsert({ scope: 'global', key: 'C' }, { value: 'g' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'B' }, { value: 't' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'C' }, { value: 't' }, 'admin');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'shop', key: 'C' }, { value: 'p' }, 'owner');
    assert.deepEqual(resolved(c, 'retail', 'shop', 'dev'), { A: 'g@global', B: 't@tenant', C: 'p@project' });
    store.close();
  });

  it('when a scope has an environment entry and a generic one, then the environment wins there, but a stronger scope\'s generic entry still wins over it', () => {
    const store = openPlatformStore(tempDbFile());
    const c = store.configuration;
    c.upsert({ scope: 'global', key: 'LOG_LEVEL' }, { value: 'info' }, 'admin');
    c.upsert({ scope: 'global', key: 'REGION' }, { value: 'eu-west-1' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'LOG_LEVEL' }, { value: 'warn' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'REGION', environment: 'prod' }, { value: 'eu-central-1' }, 'admin');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'shop', key: 'LOG_LEVEL', environment: 'dev' }, { value: 'debug' }, 'owner');
    c.upsert({ scope: 'global', key: 'REPLICAS', environment: 'prod' }, { value: '3' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'REPLICAS' }, { value: '2' }, 'admin');

    assert.deepEqual(resolved(c, 'retail', 'shop', 'dev'), { LOG_LEVEL: 'debug@project/dev', REGION: 'eu-west-1@global', REPLICAS: '2@tenant' });
    assert.deepEqual(resolved(c, 'retail', 'shop', 'prod'), { LOG_LEVEL: 'warn@tenant', REGION: 'eu-central-1@tenant/prod', REPLICAS: '2@tenant' });
    assert.deepEqual(resolved(c, 'retail', 'shop'), { LOG_LEVEL: 'warn@tenant', REGION: 'eu-west-1@global', REPLICAS: '2@tenant' }, 'no environment: generic entries only');
    store.close();
  });

  it('when other tenants and projects have entries, then they do not leak into a project\'s resolution', () => {
    const store = openPlatformStore(tempDbFile());
    const c = store.configuration;
    c.upsert({ scope: 'global', key: 'REGION' }, { value: 'eu' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'wholesale', key: 'REGION' }, { value: 'us' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'wholesale', key: 'ONLY_WHOLESALE' }, { value: '1' }, 'admin');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'other', key: 'ONLY_OTHER' }, { value: '1' }, 'owner');
    // Same project name under another tenant: a different project as far as the hierarchy goes.
    c.upsert({ scope: 'project', tenant: 'wholesale', project: 'shop', key: 'REGION' }, { value: 'ap' }, 'owner');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'shop', key: 'OWN' }, { value: '1' }, 'owner');
    assert.deepEqual(resolved(c, 'retail', 'shop', 'dev'), { OWN: '1@project', REGION: 'eu@global' });
    assert.deepEqual(resolved(c, 'wholesale', 'shop', 'dev'), { ONLY_WHOLESALE: '1@tenant', REGION: 'ap@project' });
    store.close();
  });

  it('when resolved, then entries come sorted by key with who wrote them and when', () => {
    const store = openPlatformStore(tempDbFile());
    for (const key of ['zeta', 'Alpha', 'alpha', 'b.c', 'B_C']) store.configuration.upsert({ scope: 'global', key }, { value: key }, `writer-${key}`);
    const entries = store.configuration.resolve('t', 'p');
    assert.deepEqual(entries.map((e) => e.key), ['Alpha', 'B_C', 'alpha', 'b.c', 'zeta']);
    assert.equal(entries[0]?.updatedBy, 'writer-Alpha');
    assert.ok(!Number.isNaN(Date.parse(entries[0]?.updatedAt ?? '')));
    store.close();
  });

  it('when an entry is written again, then it is updated in place with the new writer, and a second delete reports it missing', () => {
    const store = openPlatformStore(tempDbFile());
    const location = { scope: 'tenant' as const, tenant: 'retail', key: 'TEAM' };
    assert.equal(store.configuration.upsert(location, { value: 'a' }, 'x'), 'created');
    assert.equal(store.configuration.upsert(location, { secretRef: 'vault://kv/retail#team' }, 'y'), 'updated');
    assert.deepEqual(
      store.configuration.resolve('retail', 'p').map(({ key, value, secretRef, updatedBy }) => ({ key, value, secretRef, updatedBy })),
      [{ key: 'TEAM', value: undefined, secretRef: 'vault://kv/retail#team', updatedBy: 'y' }],
    );
    assert.equal(store.configuration.delete({ ...location, environment: 'dev' }), false, 'the dev entry is another entry');
    assert.equal(store.configuration.delete(location), true);
    assert.equal(store.configuration.delete(location), false);
    store.close();
  });

  it('when the store is closed and opened again, then the data is still there', () => {
    const file = tempDbFile();
    const first = openPlatformStore(file);
    first.configuration.upsert({ scope: 'global', key: 'KEEP' }, { value: '1' }, 'x');
    first.configuration.upsert({ scope: 'project', tenant: 't', project: 'p', key: 'db.password', environment: 'prod' }, { secretRef: 'vault://kv/p/db#password' }, 'x');
    first.close();
    const second = openPlatformStore(file);
    assert.deepEqual(resolved(second.configuration, 't', 'p', 'prod'), { KEEP: '1@global', 'db.password': 'vault://kv/p/db#password@project/prod' });
    second.close();
  });
});

describe('project configuration port over the store', () => {
  it('when a landing zone writes and then undoes its entries, then they resolve and then are gone, all or nothing', async () => {
    const store = openPlatformStore(tempDbFile());
    const port = createStoreProjectConfiguration(store.configuration);
    const entries = [
      { key: 'project.class', value: 'java' },
      { key: 'kubernetes.namespace', value: 'shop-dev', environment: 'dev' },
    ];
    assert.deepEqual(await port.writeProjectEntries('retail', 'shop', entries, 'landing-zone:x'), ['project.class', 'kubernetes.namespace@dev']);
    assert.deepEqual(store.configuration.resolve('retail', 'shop', 'dev').map((e) => e.key), ['kubernetes.namespace', 'project.class']);
    await port.deleteProjectEntries('retail', 'shop', entries);
    await port.deleteProjectEntries('retail', 'shop', entries);
    assert.deepEqual(store.configuration.resolve('retail', 'shop', 'dev'), []);
    await assert.rejects(port.writeProjectEntries('retail', 'shop', [{ key: 'ok', value: '1' }, { key: 'bad' }], 'x'));
    await assert.rejects(port.writeProjectEntries('retail', 'shop', [{ key: 'ok', value: '1' }, { key: 'db.password', value: 'hunter2' }], 'x'));
    assert.deepEqual(store.configuration.resolve('retail', 'shop'), [], 'a failed batch writes nothing');
    store.close();
  });
});
