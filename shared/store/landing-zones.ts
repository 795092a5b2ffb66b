/** Landing zones that exist: what deployments are checked against (project, environments). */
import type { Db } from './database';

export interface LandingZoneRecord {
  project: string;
  tenant: string;
  projectClass: string;
  environments: string[];
  workflowId: string;
  runId: string;
  /** What the landing zone created (namespaces, repositories, token reference), as its run reported. */
  resources: unknown;
  createdAt: string;
}

interface Row {
  project: string;
  tenant: string;
  project_class: string;
  environments: string;
  workflow_id: string;
  run_id: string;
  resources: string;
  created_at: string;
}

export class LandingZoneRepository {
  constructor(private readonly db: Db) {}

  /** Idempotent for the same run; a different run for the same project is refused. */
  register(record: Omit<LandingZoneRecord, 'createdAt'>): void {
    const existing = this.find(record.project);
    if (existing) {
      if (existing.runId === record.runId) return;
      throw new Error(`project ${record.project} already has a landing zone (run ${existing.runId})`);
    }
    this.db
      .prepare('INSERT INTO landing_zones (project, tenant, project_class, environments, workflow_id, run_id, resources, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.project, record.tenant, record.projectClass, JSON.stringify(record.environments), record.workflowId, record.runId, JSON.stringify(record.resources), new Date().toISOString());
  }

  find(project: string): LandingZoneRecord | undefined {
    const row = this.db.prepare('SELECT * FROM landing_zones WHERE project = ?').get(project) as Row | undefined;
    if (!row) return undefined;
    return {
      project: row.project,
      tenant: row.tenant,
      projectClass: row.project_class,
      environments: JSON.parse(row.environments) as string[],
      workflowId: row.workflow_id,
      runId: row.run_id,
      resources: JSON.parse(row.resources) as unknown,
      createdAt: row.created_at,
    };
  }

  /** Removes the record of `runId` (compensation); no-op when absent or another run's. */
  unregister(project: string, runId: string): boolean {
    return this.db.prepare('DELETE FROM landing_zones WHERE project = ? AND run_id = ?').run(project, runId).changes > 0;
  }
}
