/**
 * The ChangeManagement port over ServiceNow's change_request table. Every call is safe to retry:
 * open() creates the change under a sys_id derived from the correlation id, so a create that is
 * slow, lost or still in transit when it is retried cannot make a second change (ServiceNow
 * refuses the second insert of a sys_id); close() writes nothing when the change already holds
 * the wanted outcome.
 */
import { createHash } from 'node:crypto';
import type { ApprovalRecord, ChangeRecord } from '../../../shared/domain';
import type { ChangeManagement, CloseChangeRequest, DecidedChangePage, OpenChangeRequest } from '../../ports/change-management';
import { changeRequestRefused } from './failures';
import {
  alreadyClosedAs,
  APPROVAL_FIELDS,
  approvalListSchema,
  closeFields,
  DECIDED_FIELDS,
  decidedListSchema,
  fromGlideDateTime,
  listResultSchema,
  singleResultSchema,
  toApprovalRecord,
  toChangeRecord,
  toGlideDateTime,
} from './records';
import { ServiceNowUnavailableError } from './failures';
import { createTableClient } from './table-client';

export interface ServiceNowConfig {
  /** Instance root, e.g. `https://acme.service-now.com`. */
  baseUrl: string;
  user: string;
  /** Secret. */
  password: string;
  /** Per HTTP call; a slow instance becomes a retryable failure instead of a hung activity. */
  timeoutMs?: number;
  /** Group that receives the change (`assignment_group`, a name or sys_id), when the instance wants one. */
  assignmentGroup?: string;
}

const TABLE = '/api/now/table/change_request';
const APPROVALS_TABLE = '/api/now/table/sysapproval_approver';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Marks the changes this platform opened (set on every change it creates). */
const CORRELATION_DISPLAY = 'deploy-platform';
/** Rows per page of the decided-changes query: one read covers a hundred decisions. */
const DECIDED_PAGE_SIZE = 100;
/** Closed complete (3) and cancelled (4): nobody can approve such a change any more. */
const FINAL_STATES = '3,4';
/** Reference fields come back as plain values instead of `{link, value}` objects. */
const COMMON_PARAMS = 'sysparm_exclude_reference_link=true';

/** `^` separates terms of an encoded query; inside a value it would change the query's meaning. */
function assertQueryable(correlationId: string): void {
  if (!correlationId || /[\^\r\n]/.test(correlationId)) {
    throw changeRequestRefused(`correlation id ${JSON.stringify(correlationId)} cannot be used in a ServiceNow query (empty, or contains ^ or a line break)`);
  }
}

function sysIdPath(sysId: string): string {
  return `${TABLE}/${encodeURIComponent(sysId)}?${COMMON_PARAMS}`;
}

/** The sys_id a run's change is created under: the same for every attempt of the same run. */
export function changeSysIdFor(correlationId: string): string {
  return createHash('sha256').update(`deploy-platform/change_request/${correlationId}`).digest('hex').slice(0, 32);
}

export function createServiceNowChangeManagement(config: ServiceNowConfig): ChangeManagement {
  const client = createTableClient({
    baseUrl: config.baseUrl,
    user: config.user,
    password: config.password,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const record = (r: Parameters<typeof toChangeRecord>[0]): ChangeRecord => toChangeRecord(r, client.baseUrl);

  /** The change under `sysId`, or undefined when ServiceNow has none. */
  async function findBySysId(sysId: string) {
    const query = new URLSearchParams({ sysparm_query: `sys_id=${sysId}`, sysparm_limit: '1' });
    const { result } = await client.request({
      method: 'GET',
      path: `${TABLE}?${query.toString()}&${COMMON_PARAMS}`,
      schema: listResultSchema,
      action: `look up change ${sysId}`,
    });
    return result[0];
  }

  async function fetchBySysId(sysId: string, action: string) {
    const { result } = await client.request({ method: 'GET', path: sysIdPath(sysId), schema: singleResultSchema, action });
    return result;
  }

  return {
    async open(request: OpenChangeRequest): Promise<ChangeRecord> {
      assertQueryable(request.correlationId);
      const sysId = changeSysIdFor(request.correlationId);
      const mine = await findBySysId(sysId);
      if (mine) return record(mine);
      // Changes opened before sys_ids were derived (or by an instance that ignores a given sys_id).
      const query = new URLSearchParams({ sysparm_query: `correlation_id=${request.correlationId}`, sysparm_limit: '1' });
      const existing = await client.request({
        method: 'GET',
        path: `${TABLE}?${query.toString()}&${COMMON_PARAMS}`,
        schema: listResultSchema,
        action: `look up the change for correlation id ${request.correlationId}`,
      });
      const found = existing.result[0];
      if (found) return record(found);

      // approval is deliberately not sent: whether a change is pre-approved is ServiceNow's decision.
      try {
        const created = await client.request({
          method: 'POST',
          path: `${TABLE}?${COMMON_PARAMS}`,
          body: {
            sys_id: sysId,
            short_description: request.shortDescription,
            description: request.description,
            type: request.type,
            correlation_id: request.correlationId,
            correlation_display: CORRELATION_DISPLAY,
            requested_by: request.requestedBy,
            ...(request.window ? { start_date: toGlideDateTime(request.window.start), end_date: toGlideDateTime(request.window.end) } : {}),
            ...(config.assignmentGroup ? { assignment_group: config.assignmentGroup } : {}),
          },
          schema: singleResultSchema,
          action: `open a ${request.type} change for correlation id ${request.correlationId}`,
        });
        return record(created.result);
      } catch (error) {
        // Refused because an earlier attempt's insert of this sys_id landed meanwhile: that change is ours.
        if (error instanceof ServiceNowUnavailableError) throw error;
        const landed = await findBySysId(sysId);
        if (landed && landed.correlation_id === request.correlationId) return record(landed);
        throw error;
      }
    },

    async approvals(sysId: string): Promise<ApprovalRecord[]> {
      const query = new URLSearchParams({ sysparm_query: `sysapproval=${sysId}`, sysparm_fields: APPROVAL_FIELDS.join(',') });
      const { result } = await client.request({
        method: 'GET',
        path: `${APPROVALS_TABLE}?${query.toString()}&${COMMON_PARAMS}`,
        schema: approvalListSchema,
        action: `read the approvals of change ${sysId}`,
      });
      return result.map(toApprovalRecord);
    },

    async decidedSince(since: Date, page = { offset: 0, limit: DECIDED_PAGE_SIZE }): Promise<DecidedChangePage> {
      // a^b^c^ORd is a AND b AND (c OR d): ServiceNow's ^OR binds to the term before it. The sys_id
      // tie-break keeps offsets stable between pages of rows updated in the same second.
      const encoded =
        `correlation_display=${CORRELATION_DISPLAY}^sys_updated_on>=${toGlideDateTime(since.toISOString())}` +
        `^approvalINapproved,rejected^ORstateIN${FINAL_STATES}^ORDERBYsys_updated_on^ORDERBYsys_id`;
      const query = new URLSearchParams({
        sysparm_query: encoded,
        sysparm_fields: DECIDED_FIELDS.join(','),
        sysparm_limit: String(page.limit),
        sysparm_offset: String(page.offset),
      });
      const { result } = await client.request({
        method: 'GET',
        path: `${TABLE}?${query.toString()}&${COMMON_PARAMS}`,
        schema: decidedListSchema,
        action: `list the changes decided since ${since.toISOString()}`,
      });
      const changes = result.map((r) => {
        const updatedAt = fromGlideDateTime(r.sys_updated_on);
        return { sysId: r.sys_id, number: r.number, ...(updatedAt ? { updatedAt } : {}) };
      });
      return { changes, ...(result.length === page.limit ? { next: page.offset + page.limit } : {}) };
    },

    async get(sysId: string): Promise<ChangeRecord> {
      return record(await fetchBySysId(sysId, `read change ${sysId}`));
    },

    async close({ sysId, outcome, notes }: CloseChangeRequest): Promise<ChangeRecord> {
      const wanted = closeFields(outcome, notes);
      const current = await fetchBySysId(sysId, `read change ${sysId} before closing it`);
      if (alreadyClosedAs(current, wanted)) return record(current);
      const { result } = await client.request({
        method: 'PATCH',
        path: sysIdPath(sysId),
        body: wanted,
        schema: singleResultSchema,
        action: `close change ${current.number} as ${outcome}`,
      });
      return record(result);
    },
  };
}
