/**
 * The ChangeManagement port over ServiceNow's change_request table. Every call is safe to retry:
 * open() finds the change by correlation id before creating one, and close() writes nothing when
 * the change already holds the wanted outcome.
 */
import type { ChangeRecord } from '../../../shared/domain';
import type { ChangeManagement, CloseChangeRequest, OpenChangeRequest } from '../../ports/change-management';
import { changeRequestRefused } from './failures';
import { alreadyClosedAs, closeFields, listResultSchema, singleResultSchema, toChangeRecord } from './records';
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
const DEFAULT_TIMEOUT_MS = 10_000;
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

export function createServiceNowChangeManagement(config: ServiceNowConfig): ChangeManagement {
  const client = createTableClient({
    baseUrl: config.baseUrl,
    user: config.user,
    password: config.password,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const record = (r: Parameters<typeof toChangeRecord>[0]): ChangeRecord => toChangeRecord(r, client.baseUrl);

  async function fetchBySysId(sysId: string, action: string) {
    const { result } = await client.request({ method: 'GET', path: sysIdPath(sysId), schema: singleResultSchema, action });
    return result;
  }

  return {
    async open(request: OpenChangeRequest): Promise<ChangeRecord> {
      assertQueryable(request.correlationId);
      // Find first: a retried activity (or a worker that died after the POST) must not open a second change.
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
      const created = await client.request({
        method: 'POST',
        path: `${TABLE}?${COMMON_PARAMS}`,
        body: {
          short_description: request.shortDescription,
          description: request.description,
          type: request.type,
          correlation_id: request.correlationId,
          correlation_display: 'deploy-platform',
          requested_by: request.requestedBy,
          ...(config.assignmentGroup ? { assignment_group: config.assignmentGroup } : {}),
        },
        schema: singleResultSchema,
        action: `open a ${request.type} change for correlation id ${request.correlationId}`,
      });
      return record(created.result);
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
