import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createStoreProjectConfiguration } from '../../activities/adapters/config-store';
import { migrate, openDatabase, openPlatformStore, StoreError } from '../../shared/store';
import { MIGRATIONS } from '../../shared/store/migrations';

const dirs: string[] = [];
function dbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platform-store-'));
  dirs.push(dir);
  return join(dir, 'platform.sqlite');
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('migrations', () => {
  it('when a fresh database is opened twice, then every migration runs once', () => {
    const file = dbFile();
    openDatabase(file).close();
    const db = new Database(file);
    assert.deepEqual(migrate(db), []);
    assert.equal((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n, MIGRATIONS.length);
    db.close();
  });

  it('when the database is newer than the code, then opening it is refused', () => {
    const file = dbFile();
    openDatabase(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, ?)').run('from the future', new Date().toISOString());
    db.close();
    assert.throws(() => openDatabase(file), (error: unknown) => error instanceof StoreError && /version 999/.test(error.message));
  });

  it('when a migration fails, then it leaves nothing behind and is not recorded', () => {
    const db = new Database(':memory:');
    const next = MIGRATIONS.length + 1;
    const broken = [...MIGRATIONS, { version: next, name: 'broken', sql: 'CREATE TABLE half_done (id INTEGER); SELECT * FROM no_such_table;' }];
    assert.throws(() => migrate(db, broken), /no_such_table/);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get(), undefined);
    assert.deepEqual(
      (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version),
      MIGRATIONS.map((m) => m.version),
    );
    db.close();
  });
});

describe('configuration resolution', () => {
  it('when the same key is set at several scopes and environments, then project beats tenant beats global and the environment\'s own entry beats the generic one', () => {
    const store = openPlatformStore(dbFile());
    const c = store.configuration;
    c.upsert({ scope: 'global', key: 'LOG_LEVEL' }, { value: 'info' }, 'admin');
    c.upsert({ scope: 'global', key: 'REGION' }, { value: 'eu-west-1' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'LOG_LEVEL' }, { value: 'warn' }, 'admin');
    c.upsert({ scope: 'tenant', tenant: 'retail', key: 'REGION', environment: 'prod' }, { value: 'eu-central-1' }, 'admin');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'shop', key: 'LOG_LEVEL', environment: 'dev' }, { value: 'debug' }, 'owner');
    c.upsert({ scope: 'project', tenant: 'retail', project: 'shop', key: 'db.password' }, { secretRef: 'vault://kv/shop/db#password' }, 'owner');
    c.upsert({ scope: 'project', tenant: 'other', project: 'shop2', key: 'LOG_LEVEL' }, { value: 'error' }, 'owner');

    const summary = (env?: string) => Object.fromEntries(c.resolve('retail', 'shop', env).map((e) => [e.key, `${e.value ?? e.secretRef}@${e.scope}${e.environment ? `/${e.environment}` : ''}`]));
    assert.deepEqual(summary('dev'), { LOG_LEVEL: 'debug@project/dev', REGION: 'eu-west-1@global', 'db.password': 'vault://kv/shop/db#password@project' });
    assert.deepEqual(summary('prod'), { LOG_LEVEL: 'warn@tenant', REGION: 'eu-central-1@tenant/prod', 'db.password': 'vault://kv/shop/db#password@project' });
    assert.deepEqual(summary(), { LOG_LEVEL: 'warn@tenant', REGION: 'eu-west-1@global', 'db.password': 'vault://kv/shop/db#password@project' });
    assert.equal(c.resolve('other', 'shop2', 'dev').find((e) => e.key === 'REGION')?.scope, 'global', 'other tenants see only global and their own');
    store.close();
  });

  it('when an entry is written again, then it is updated in place and deleting it twice reports the second as missing', () => {
    const store = openPlatformStore(dbFile());
    const location = { scope: 'tenant' as const, tenant: 'retail', key: 'TEAM' };
    assert.equal(store.configuration.upsert(location, { value: 'a' }, 'x'), 'created');
    assert.equal(store.configuration.upsert(location, { value: 'b' }, 'y'), 'updated');
    assert.equal(store.configuration.resolve('retail', 'p')[0]?.updatedBy, 'y');
    assert.equal(store.configuration.delete(location), true);
    assert.equal(store.configuration.delete(location), false);
    store.close();
  });

  it('when the store is closed and opened again, then the data is still there', () => {
    const file = dbFile();
    const first = openPlatformStore(file);
    first.configuration.upsert({ scope: 'global', key: 'KEEP' }, { value: '1' }, 'x');
    first.close();
    const second = openPlatformStore(file);
    assert.equal(second.configuration.resolve('t', 'p')[0]?.value, '1');
    second.close();
  });
});

describe('project configuration port over the store', () => {
  it('when a landing zone writes and then undoes its entries, then they resolve and then are gone, all or nothing', async () => {
    const store = openPlatformStore(dbFile());
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
    assert.deepEqual(store.configuration.resolve('retail', 'shop'), [], 'a failed batch writes nothing');
    store.close();
  });
});
