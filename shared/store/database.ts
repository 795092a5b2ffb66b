/**
 * The platform's embedded database (SQLite via better-sqlite3): real transactions, one file the
 * API and worker processes share (WAL mode, busy timeout), schema by migrations.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** How long a connection waits for another process's write lock before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Runs `work` in a transaction that holds the write lock from its first statement. A deferred
 * transaction that reads and then writes fails at once (SQLITE_BUSY, no waiting) when another
 * process wrote in between; an immediate one waits its turn (busy timeout) instead.
 */
export function writeTransaction<T>(db: Db, work: () => T): T {
  return db.transaction(work).immediate();
}

function appliedVersions(db: Db): Set<number> {
  return new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
}

/** Applies the migrations the database has not seen; refuses a database newer than this code. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  if (new Set(ordered.map((m) => m.version)).size !== ordered.length) throw new StoreError('two migrations share a version number');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const known = Math.max(0, ...ordered.map((m) => m.version));
  const newest = Math.max(0, ...appliedVersions(db));
  if (newest > known) {
    throw new StoreError(`the database is at schema version ${newest}, newer than this platform knows (${known}); upgrade the platform`);
  }
  const ran: number[] = [];
  for (const migration of ordered) {
    // Holding the write lock before looking: when the API and the worker open a fresh file at the
    // same moment, the second waits and then finds the migration done instead of running it twice.
    writeTransaction(db, () => {
      if (appliedVersions(db).has(migration.version)) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, new Date().toISOString());
      ran.push(migration.version);
    });
  }
  return ran;
}

/**
 * The database holds token hashes, configuration and landing-zone records: readable by the
 * platform's own user only, its WAL and shared-memory files too (SQLite creates them with the
 * process umask, which may be 022).
 */
function ownerOnly(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/**
 * SQLite answers SQLITE_BUSY at once, without its busy handler, when two processes switch a fresh
 * database to WAL at the same moment (avoiding a lock deadlock); the switch is retried briefly.
 */
function retryWhileBusy<T>(work: () => T, attempts = 100, pauseMs = 20): T {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return work();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || attempt >= attempts) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
    }
  }
}

export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // The busy timeout comes first (the constructor sets it): switching to WAL needs a lock too.
    retryWhileBusy(() => db.pragma('journal_mode = WAL'));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    if (path !== ':memory:') ownerOnly(path);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
