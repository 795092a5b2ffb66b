/** The change_request record as the Table API returns it, and its translation to our domain. */
import { z } from 'zod';
import type { ApprovalRecord, ChangeApproval, ChangeOutcome, ChangeRecord, ChangeWindow } from '../../../shared/domain';

const APPROVALS = ['not requested', 'requested', 'approved', 'rejected'] as const satisfies readonly ChangeApproval[];

/** Only the fields we read; ServiceNow returns many more, which zod's object() drops. */
export const changeRequestRecordSchema = z.object({
  sys_id: z.string().min(1),
  number: z.string().min(1),
  state: z.union([z.string(), z.number()]).transform(String),
  approval: z.enum(APPROVALS),
  correlation_id: z.string().optional().default(''),
  close_code: z.string().optional().default(''),
  close_notes: z.string().optional().default(''),
  /** Who decided, where the instance records it (the simulator and our business rule set it). */
  u_approved_by: z.string().optional().default(''),
  sys_updated_by: z.string().optional().default(''),
  /** Planned window, glide date-time in UTC (`YYYY-MM-DD HH:MM:SS`), empty when unplanned. */
  start_date: z.string().optional().default(''),
  end_date: z.string().optional().default(''),
});
export type ChangeRequestRecord = z.infer<typeof changeRequestRecordSchema>;

export const singleResultSchema = z.object({ result: changeRequestRecordSchema });

/** What the decided-changes query reads: enough to find the run and page on. */
export const DECIDED_FIELDS = ['sys_id', 'number', 'sys_updated_on'] as const;
export const decidedListSchema = z.object({
  result: z.array(z.object({ sys_id: z.string().min(1), number: z.string().min(1), sys_updated_on: z.string().optional().default('') })),
});
export const listResultSchema = z.object({ result: z.array(changeRequestRecordSchema) });

const GLIDE_DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/;

/** ServiceNow's UTC date-time text as an ISO time; undefined when empty or not in that format. */
export function fromGlideDateTime(text: string): string | undefined {
  const match = GLIDE_DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const at = new Date(`${match[1]}T${match[2]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function toGlideDateTime(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
}

function windowOf(record: ChangeRequestRecord): ChangeWindow | undefined {
  const start = fromGlideDateTime(record.start_date);
  const end = fromGlideDateTime(record.end_date);
  return start || end ? { ...(start ? { start } : {}), ...(end ? { end } : {}) } : undefined;
}

export function toChangeRecord(record: ChangeRequestRecord, baseUrl: string): ChangeRecord {
  const window = windowOf(record);
  return {
    sysId: record.sys_id,
    number: record.number,
    state: record.state,
    approval: record.approval,
    correlationId: record.correlation_id,
    ...(record.u_approved_by || record.sys_updated_by ? { decidedBy: record.u_approved_by || record.sys_updated_by } : {}),
    url: `${baseUrl}/nav_to.do?uri=change_request.do?sys_id=${record.sys_id}`,
    ...(window ? { window } : {}),
  };
}

/**
 * The fields read from `sysapproval_approver`, dot-walked to names: `approver` references sys_user
 * and `group` a sysapproval_group whose `assignment_group` is the approving sys_user_group.
 */
export const APPROVAL_FIELDS = ['sys_id', 'state', 'approver.user_name', 'group.assignment_group.name', 'sys_updated_on'] as const;

const approvalRecordSchema = z.object({
  sys_id: z.string().min(1),
  state: z.string(),
  'approver.user_name': z.string().optional().default(''),
  'group.assignment_group.name': z.string().optional().default(''),
  sys_updated_on: z.string().optional().default(''),
});
export const approvalListSchema = z.object({ result: z.array(approvalRecordSchema) });

export function toApprovalRecord(record: z.infer<typeof approvalRecordSchema>): ApprovalRecord {
  const state = record.state === 'approved' || record.state === 'rejected' || record.state === 'requested' ? record.state : 'other';
  const decidedAt = fromGlideDateTime(record.sys_updated_on);
  return { approver: record['approver.user_name'], group: record['group.assignment_group.name'], state, ...(decidedAt ? { decidedAt } : {}) };
}

export const STATE_CLOSED = '3';
export const STATE_CANCELED = '4';

/** The fields a close writes; ServiceNow keeps close_code empty on a cancelled change. */
export function closeFields(outcome: ChangeOutcome, notes: string): { state: string; close_code?: string; close_notes: string } {
  switch (outcome) {
    case 'successful':
      return { state: STATE_CLOSED, close_code: 'successful', close_notes: notes };
    case 'unsuccessful':
      return { state: STATE_CLOSED, close_code: 'unsuccessful', close_notes: notes };
    case 'cancelled':
      return { state: STATE_CANCELED, close_notes: notes };
  }
}

/** True when the record already holds exactly what a close would write, so a retry writes nothing. */
export function alreadyClosedAs(record: ChangeRequestRecord, wanted: ReturnType<typeof closeFields>): boolean {
  return record.state === wanted.state && record.close_code === (wanted.close_code ?? record.close_code) && record.close_notes === wanted.close_notes;
}
