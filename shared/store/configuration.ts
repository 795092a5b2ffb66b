/**
 * The environment hierarchy: configuration entries and secret references in three scopes —
 * global, tenant, project — each optionally per environment. Resolution for a project in an
 * environment: project over tenant over global, and within a scope the environment's own entry
 * over the all-environments one. Secrets are references only; no secret value is ever stored.
 */
import { writeTransaction, type Db } from './database';
import { entryProblems, InvalidEntryError, type EntryContent, type EntryLocation, type Scope } from './entry-rules';

export type { EntryContent, EntryLocation, Scope } from './entry-rules';

export interface StoredEntry {
  key: string;
  scope: Scope;
  environment: string | null;
  value?: string;
  secretRef?: string;
  updatedBy: string;
  updatedAt: string;
}

interface Row {
  scope: Scope;
  tenant: string;
  project: string;
  environment: string;
  key: string;
  value: string | null;
  secret_ref: string | null;
  updated_by: string;
  updated_at: string;
}

/** Lower is stronger. */
const STRENGTH: Record<Scope, number> = { project: 0, tenant: 1, global: 2 };

function identity(location: EntryLocation): [Scope, string, string, string, string] {
  return [location.scope, location.tenant ?? '', location.project ?? '', location.environment ?? '', location.key];
}

function toEntry(row: Row): StoredEntry {
  return {
    key: row.key,
    scope: row.scope,
    environment: row.environment || null,
    ...(row.value !== null ? { value: row.value } : {}),
    ...(row.secret_ref !== null ? { secretRef: row.secret_ref } : {}),
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

export class ConfigurationRepository {
  constructor(private readonly db: Db) {}

  /** Creates or replaces one entry, recording who wrote it; says which. Refuses invalid entries. */
  upsert(location: EntryLocation, content: EntryContent, updatedBy: string): 'created' | 'updated' {
    const problems = entryProblems(location, content);
    if (problems.length > 0) throw new InvalidEntryError(problems);
    const [scope, tenant, project, environment, key] = identity(location);
    return writeTransaction(this.db, () => {
      const existing = this.db
        .prepare('SELECT 1 FROM config_entries WHERE scope = ? AND tenant = ? AND project = ? AND environment = ? AND key = ?')
        .get(scope, tenant, project, environment, key);
      this.db
        .prepare(
          `INSERT INTO config_entries (scope, tenant, project, environment, key, value, secret_ref, updated_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (scope, tenant, project, environment, key)
           DO UPDATE SET value = excluded.value, secret_ref = excluded.secret_ref, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        )
        .run(scope, tenant, project, environment, key, content.value ?? null, content.secretRef ?? null, updatedBy, new Date().toISOString());
      return existing ? 'updated' : 'created';
    });
  }

  /** The entry stored exactly at `location` (no resolution). */
  find(location: EntryLocation): StoredEntry | undefined {
    const row = this.db
      .prepare('SELECT * FROM config_entries WHERE scope = ? AND tenant = ? AND project = ? AND environment = ? AND key = ?')
      .get(...identity(location)) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  /** True when an entry was deleted. */
  delete(location: EntryLocation): boolean {
    return writeTransaction(this.db, () => {
      const result = this.db
        .prepare('DELETE FROM config_entries WHERE scope = ? AND tenant = ? AND project = ? AND environment = ? AND key = ?')
        .run(...identity(location));
      return result.changes > 0;
    });
  }

  /** Writes several entries in one transaction (all or nothing). */
  upsertMany(locations: { location: EntryLocation; content: EntryContent }[], updatedBy: string): void {
    writeTransaction(this.db, () => {
      for (const { location, content } of locations) this.upsert(location, content, updatedBy);
    });
  }

  /** Deletes every project-scope entry of `tenant`/`project` (a decommissioned project); returns how many. */
  deleteProject(tenant: string, project: string): number {
    return writeTransaction(this.db, () => this.db.prepare("DELETE FROM config_entries WHERE scope = 'project' AND tenant = ? AND project = ?").run(tenant, project).changes);
  }

  deleteMany(locations: EntryLocation[]): void {
    writeTransaction(this.db, () => {
      for (const location of locations) this.delete(location);
    });
  }

  /** The entries that apply to `project` of `tenant` in `environment`, each from its strongest source. */
  resolve(tenant: string, project: string, environment?: string): StoredEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM config_entries
         WHERE (scope = 'global' OR (scope = 'tenant' AND tenant = ?) OR (scope = 'project' AND tenant = ? AND project = ?))
           AND (environment = '' OR environment = ?)`,
      )
      .all(tenant, tenant, project, environment ?? '') as Row[];
    const winners = new Map<string, Row>();
    const rank = (row: Row): number => STRENGTH[row.scope] * 2 + (row.environment ? 0 : 1);
    for (const row of rows) {
      const current = winners.get(row.key);
      if (!current || rank(row) < rank(current)) winners.set(row.key, row);
    }
    return [...winners.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(toEntry);
  }
}
