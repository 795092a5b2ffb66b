/**
 * The audit log: who did what to which target, when, through which channel and with what outcome,
 * one row per attempt of a state-changing action (refusals too). Append-only: the table's
 * triggers refuse UPDATE and DELETE (migration 6). Never holds a secret or a configuration value:
 * a configuration entry is named by its scope, place and key only.
 */
import type { Db } from './database';

export const AUDIT_ACTIONS = [
  'deployment.start',
  'deployment.cancel',
  'landing-zone.create',
  'landing-zone.update',
  'landing-zone.delete',
  'config.set',
  'config.delete',
  'approval.decision',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['accepted', 'duplicate', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AUDIT_CHANNELS = ['api', 'webhook', 'platformctl'] as const;
export type AuditChannel = (typeof AUDIT_CHANNELS)[number];

/** Names of what an action was about; only those that apply. Never values. */
export interface AuditTarget {
  tenant?: string;
  project?: string;
  service?: string;
  environment?: string;
  deploymentId?: string;
  /** Configuration entries: `global`, `tenant` or `project`. */
  scope?: string;
  /** A configuration entry's key (never its value). */
  key?: string;
  changeNumber?: string;
}

export interface AuditEntryInput {
  requestId: string;
  actor: string;
  action: AuditAction;
  target: AuditTarget;
  workflowId?: string;
  runId?: string;
  outcome: AuditOutcome;
  /** The HTTP status the request was answered with. */
  status: number;
  channel: AuditChannel;
}

export interface AuditEntry extends AuditEntryInput {
  id: number;
  /** ISO 8601, UTC, milliseconds. */
  at: string;
}

export interface AuditQuery {
  actor?: string;
  action?: AuditAction;
  project?: string;
  /** ISO 8601 UTC: entries at or after. */
  since?: string;
  /** ISO 8601 UTC: entries before. */
  until?: string;
  /** Only entries older than this id (the previous page's last). */
  beforeId?: number;
  limit: number;
}

interface Row {
  id: number;
  at: string;
  request_id: string;
  actor: string;
  action: AuditAction;
  target: string;
  workflow_id: string | null;
  run_id: string | null;
  outcome: AuditOutcome;
  status: number;
  channel: AuditChannel;
}

const TARGET_FIELDS = ['tenant', 'project', 'service', 'environment', 'deploymentId', 'scope', 'key', 'changeNumber'] as const satisfies readonly (keyof AuditTarget)[];

/** Only the known fields, only strings: whatever a caller builds, no value can slip in. */
function cleanTarget(target: AuditTarget): AuditTarget {
  const clean: AuditTarget = {};
  for (const field of TARGET_FIELDS) {
    const value = target[field];
    if (typeof value === 'string' && value !== '') clean[field] = value;
  }
  return clean;
}

function toEntry(row: Row): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    requestId: row.request_id,
    actor: row.actor,
    action: row.action,
    target: cleanTarget(JSON.parse(row.target) as AuditTarget),
    ...(row.workflow_id !== null ? { workflowId: row.workflow_id } : {}),
    ...(row.run_id !== null ? { runId: row.run_id } : {}),
    outcome: row.outcome,
    status: row.status,
    channel: row.channel,
  };
}

export class AuditRepository {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Appends one entry; returns it as stored. */
  append(input: AuditEntryInput): AuditEntry {
    const at = this.clock().toISOString();
    const target = cleanTarget(input.target);
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO audit_log (at, request_id, actor, action, project, target, workflow_id, run_id, outcome, status, channel)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(at, input.requestId, input.actor, input.action, target.project ?? null, JSON.stringify(target), input.workflowId ?? null, input.runId ?? null, input.outcome, input.status, input.channel)
        .lastInsertRowid,
    );
    return { ...input, target, id, at };
  }

  /** Newest first; one more than `limit` is read to know whether another page follows. */
  list(query: AuditQuery): { entries: AuditEntry[]; more: boolean } {
    const terms: string[] = [];
    const params: (string | number)[] = [];
    const add = (term: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      terms.push(term);
      params.push(value);
    };
    add('actor = ?', query.actor);
    add('action = ?', query.action);
    add('project = ?', query.project);
    add('at >= ?', query.since);
    add('at < ?', query.until);
    add('id < ?', query.beforeId);
    const where = terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '';
    const rows = this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT ?`).all(...params, query.limit + 1) as Row[];
    return { entries: rows.slice(0, query.limit).map(toEntry), more: rows.length > query.limit };
  }
}
