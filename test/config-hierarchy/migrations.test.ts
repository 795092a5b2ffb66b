/** The platform database's migrations: once each, in a transaction, never on a database from the future. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, openDatabase, openPlatformStore, StoreError } from '../../shared/store';
import { MIGRATIONS } from '../../shared/store/migrations';
import { tempDbFile } from './temp-db';

const versions = (db: Database.Database): number[] =>
  (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);

describe('migrations', () => {
  it('when a fresh database is opened, then every migration runs once in order and the configuration table exists', () => {
    const file = tempDbFile();
    const db = new Database(file);
    assert.deepEqual(migrate(db), MIGRATIONS.map((m) => m.version));
    assert.deepEqual(versions(db), MIGRATIONS.map((m) => m.version));
    const columns = (db.prepare("SELECT name FROM pragma_table_info('config_entries')").all() as { name: string }[]).map((c) => c.name);
    assert.deepEqual(columns, ['id', 'scope', 'tenant', 'project', 'environment', 'key', 'value', 'secret_ref', 'updated_by', 'updated_at']);
    db.close();
  });

  it('when the database is opened again, then nothing runs a second time', () => {
    const file = tempDbFile();
    openDatabase(file).close();
    const db = new Database(file);
    const before = db.prepare('SELECT * FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(migrate(db), []);
    assert.deepEqual(db.prepare('SELECT * FROM schema_migrations ORDER BY version').all(), before);
    db.close();
  });

  it('when opened, then the connection is in WAL mode with foreign keys on and a busy timeout', () => {
    const db = openDatabase(tempDbFile());
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000);
    db.close();
  });

  it('when the database is newer than the code, then opening it is refused and it is left as it was', () => {
    const file = tempDbFile();
    openDatabase(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, ?)').run('from the future', new Date().toISOString());
    db.close();
    assert.throws(() => openPlatformStore(file), (error: unknown) => error instanceof StoreError && /version 999.*upgrade the platform/.test(error.message));
    const after = new Database(file);
    assert.deepEqual(versions(after), [...MIGRATIONS.map((m) => m.version), 999]);
    after.close();
  });

  it('when a migration fails, then its own changes are rolled back, it is not recorded, and the earlier ones stay', () => {
    const db = new Database(':memory:');
    const next = MIGRATIONS.length + 1;
    const broken = [...MIGRATIONS, { version: next, name: 'broken', sql: 'CREATE TABLE half_done (id INTEGER); SELECT * FROM no_such_table;' }];
    assert.throws(() => migrate(db, broken), /no_such_table/);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get(), undefined);
    assert.deepEqual(versions(db), MIGRATIONS.map((m) => m.version));
    // Fixed code runs it on the next open.
    assert.deepEqual(migrate(db, [...MIGRATIONS, { version: next, name: 'fixed', sql: 'CREATE TABLE half_done (id INTEGER);' }]), [next]);
    db.close();
  });

  it('when two migrations share a version, then nothing runs', () => {
    const db = new Database(':memory:');
    assert.throws(() => migrate(db, [...MIGRATIONS, { version: 1, name: 'again', sql: 'SELECT 1' }]), StoreError);
    db.close();
  });

  it('when several processes open a fresh database at the same moment, then all succeed and each migration ran once', async () => {
    const file = tempDbFile();
    const children = Array.from({ length: 5 }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'open-store-child.ts'), file, `p${i}`], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const outcomes = children.map(
      (child) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('exit', (code) => resolve({ code, stderr }));
        }),
    );
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))));
    for (const child of children) child.stdin.write('go\n');
    for (const { code, stderr } of await Promise.all(outcomes)) assert.equal(code, 0, stderr);

    const store = openPlatformStore(file);
    assert.equal(store.configuration.resolve('any', 'project').filter((e) => e.key.startsWith('opened.by.')).length, 5);
    store.close();
    const db = new Database(file);
    assert.deepEqual(versions(db), MIGRATIONS.map((m) => m.version));
    db.close();
  });
});
