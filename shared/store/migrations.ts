/**
 * The platform database's schema, as numbered migrations. Each runs once, in its own transaction,
 * recorded in `schema_migrations`; append new ones, never edit applied ones.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'configuration hierarchy',
    // Absent tenant/project/environment are stored as '' (not NULL) so the unique index treats
    // "no environment" as one value: SQLite considers NULLs distinct in unique indexes.
    sql: `
      CREATE TABLE config_entries (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL CHECK (scope IN ('global', 'tenant', 'project')),
        tenant TEXT NOT NULL DEFAULT '',
        project TEXT NOT NULL DEFAULT '',
        environment TEXT NOT NULL DEFAULT '',
        key TEXT NOT NULL,
        value TEXT,
        secret_ref TEXT,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((value IS NULL) <> (secret_ref IS NULL)),
        CHECK (scope <> 'global' OR (tenant = '' AND project = '')),
        CHECK (scope <> 'tenant' OR (tenant <> '' AND project = '')),
        CHECK (scope <> 'project' OR (tenant <> '' AND project <> ''))
      );
      CREATE UNIQUE INDEX config_entries_identity ON config_entries (scope, tenant, project, environment, key);
    `,
  },
  {
    version: 2,
    name: 'issued CI tokens',
    // Only the sha256 of a token is kept; the token itself lives in the secret store.
    sql: `
      CREATE TABLE ci_tokens (
        token_hash TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        projects TEXT NOT NULL,
        roles TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        secret_ref TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'landing zones',
    sql: `
      CREATE TABLE landing_zones (
        project TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        project_class TEXT NOT NULL,
        environments TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        resources TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'landing zone spec and state',
    // spec: owners, environments, quota and defaults as created (and later updated), which an
    // update diffs against. '{}' on rows written before this migration: such a zone cannot be
    // updated until it is recreated. state: 'decommissioning' stops new deployments.
    sql: `
      ALTER TABLE landing_zones ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE landing_zones ADD COLUMN state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'decommissioning'));
      ALTER TABLE landing_zones ADD COLUMN updated_at TEXT;
    `,
  },
  {
    version: 5,
    name: 'idempotency keys',
    // key_hash: sha256 of the caller's subject and key (the key itself is never stored).
    sql: `
      CREATE TABLE idempotency_keys (
        key_hash TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'audit log',
    // Append-only: the triggers refuse every UPDATE and DELETE, whoever sends it. Entries name
    // who did what to which target and what came of it; never a secret or a configuration value.
    // target: JSON of the target's names (project, service, environment, scope, key...); project
    // is repeated in its own column to filter on. at: ISO 8601 UTC with milliseconds.
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        request_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        project TEXT,
        target TEXT NOT NULL,
        workflow_id TEXT,
        run_id TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'refused', 'failed')),
        status INTEGER NOT NULL,
        channel TEXT NOT NULL CHECK (channel IN ('api', 'webhook', 'platformctl'))
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_actor ON audit_log (actor, id);
      CREATE INDEX audit_log_action ON audit_log (action, id);
      CREATE INDEX audit_log_project ON audit_log (project, id);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted'); END;
    `,
  },
];
