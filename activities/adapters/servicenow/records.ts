/** The change_request record as the Table API returns it, and its translation to our domain. */
import { z } from 'zod';
import type { ChangeApproval, ChangeOutcome, ChangeRecord } from '../../../shared/domain';

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
});
export type ChangeRequestRecord = z.infer<typeof changeRequestRecordSchema>;

export const singleResultSchema = z.object({ result: changeRequestRecordSchema });
export const listResultSchema = z.object({ result: z.array(changeRequestRecordSchema) });

export function toChangeRecord(record: ChangeRequestRecord, baseUrl: string): ChangeRecord {
  return {
    sysId: record.sys_id,
    number: record.number,
    state: record.state,
    approval: record.approval,
    correlationId: record.correlation_id,
    ...(record.u_approved_by || record.sys_updated_by ? { decidedBy: record.u_approved_by || record.sys_updated_by } : {}),
    url: `${baseUrl}/nav_to.do?uri=change_request.do?sys_id=${record.sys_id}`,
  };
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
