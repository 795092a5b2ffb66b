/** Landing zones that exist: what deployments are checked against (project, environments, state). */
import type { LandingZoneRegistration, LandingZoneSpec } from '../contracts/landing-zone';
import { writeTransaction, type Db } from './database';

export type LandingZoneState = 'active' | 'decommissioning';

export interface LandingZoneRecord extends Omit<LandingZoneRegistration, 'spec'> {
  /** Owners, environments, quota and defaults; absent for zones registered before specs were kept. */
  spec?: LandingZoneSpec;
  /** `decommissioning` from the moment a decommission run is approved: no new deployments. */
  state: LandingZoneState;
  createdAt: string;
  updatedAt?: string;
}

/** What an update changes in a record; written back as a whole so its undo is the same call. */
export interface LandingZoneRevision {
  environments: string[];
  spec: LandingZoneSpec;
  resources: unknown;
}

interface Row {
  project: string;
  tenant: string;
  project_class: string;
  environments: string;
  workflow_id: string;
  run_id: string;
  resources: string;
  spec: string;
  state: LandingZoneState;
  created_at: string;
  updated_at: string | null;
}

export class LandingZoneConflictError extends Error {
  override readonly name = 'LandingZoneConflictError';
}

function toRecord(row: Row): LandingZoneRecord {
  const spec = JSON.parse(row.spec) as Partial<LandingZoneSpec>;
  return {
    project: row.project,
    tenant: row.tenant,
    projectClass: row.project_class,
    environments: JSON.parse(row.environments) as string[],
    workflowId: row.workflow_id,
    runId: row.run_id,
    resources: JSON.parse(row.resources) as unknown,
    ...(spec.environments ? { spec: spec as LandingZoneSpec } : {}),
    state: row.state,
    createdAt: row.created_at,
    ...(row.updated_at ? { updatedAt: row.updated_at } : {}),
  };
}

export class LandingZoneRepository {
  constructor(private readonly db: Db) {}

  /** Idempotent for the same run; a different run for the same project is refused. */
  register(record: Omit<LandingZoneRecord, 'createdAt' | 'state' | 'updatedAt'>): void {
    writeTransaction(this.db, () => {
      const existing = this.find(record.project);
      if (existing) {
        if (existing.runId === record.runId) return;
        throw new LandingZoneConflictError(`project ${record.project} already has a landing zone (run ${existing.runId})`);
      }
      this.db
        .prepare(
          'INSERT INTO landing_zones (project, tenant, project_class, environments, workflow_id, run_id, resources, spec, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          record.project,
          record.tenant,
          record.projectClass,
          JSON.stringify(record.environments),
          record.workflowId,
          record.runId,
          JSON.stringify(record.resources),
          JSON.stringify(record.spec ?? {}),
          new Date().toISOString(),
        );
    });
  }

  find(project: string): LandingZoneRecord | undefined {
    const row = this.db.prepare('SELECT * FROM landing_zones WHERE project = ?').get(project) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** The projects registered under `tenant`, by name. */
  projectsOf(tenant: string): string[] {
    return (this.db.prepare('SELECT project FROM landing_zones WHERE tenant = ? ORDER BY project').all(tenant) as { project: string }[]).map((r) => r.project);
  }

  /** Removes the record of `runId` (compensation, decommission); no-op when absent or another run's. */
  unregister(project: string, runId: string): boolean {
    return this.db.prepare('DELETE FROM landing_zones WHERE project = ? AND run_id = ?').run(project, runId).changes > 0;
  }

  /** Replaces environments, spec and resources; false when the project has no landing zone. */
  revise(project: string, revision: LandingZoneRevision): boolean {
    return (
      this.db
        .prepare('UPDATE landing_zones SET environments = ?, spec = ?, resources = ?, updated_at = ? WHERE project = ?')
        .run(JSON.stringify(revision.environments), JSON.stringify(revision.spec), JSON.stringify(revision.resources), new Date().toISOString(), project).changes > 0
    );
  }

  /** Sets the state; false when the project has no landing zone. Idempotent. */
  setState(project: string, state: LandingZoneState): boolean {
    return this.db.prepare('UPDATE landing_zones SET state = ?, updated_at = ? WHERE project = ?').run(state, new Date().toISOString(), project).changes > 0;
  }
}
