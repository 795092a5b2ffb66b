/**
 * The simulated `sysapproval_approver` record: one approver's decision on one change, and the
 * columns a Table API caller may name for it.
 */
import { glideDateTime, newSysId } from './records';

export type ApprovalState = 'requested' | 'approved' | 'rejected';

export interface SimApproval {
  sys_id: string;
  /** The change's sys_id (a reference to the task on a real instance). */
  sysapproval: string;
  /** User name; a reference to sys_user on a real instance. */
  approver: string;
  /** Approval group name; a reference to sysapproval_group on a real instance. */
  group: string;
  state: ApprovalState;
  comments: string;
  sys_created_on: string;
  sys_updated_on: string;
}

/**
 * What `sysparm_fields` and `sysparm_query` may name: the stored fields, plus the dot-walks a real
 * instance resolves through the references (approver → sys_user, group → sysapproval_group →
 * sys_user_group). The simulator stores the names, so a dot-walk reads the stored text.
 */
const APPROVAL_COLUMNS = {
  sys_id: (a: SimApproval) => a.sys_id,
  sysapproval: (a: SimApproval) => a.sysapproval,
  approver: (a: SimApproval) => a.approver,
  group: (a: SimApproval) => a.group,
  state: (a: SimApproval) => a.state,
  comments: (a: SimApproval) => a.comments,
  sys_created_on: (a: SimApproval) => a.sys_created_on,
  sys_updated_on: (a: SimApproval) => a.sys_updated_on,
  'approver.user_name': (a: SimApproval) => a.approver,
  'group.assignment_group.name': (a: SimApproval) => a.group,
} as const satisfies Record<string, (a: SimApproval) => string>;

export type ApprovalColumn = keyof typeof APPROVAL_COLUMNS;

export function isApprovalColumn(name: string): name is ApprovalColumn {
  return Object.hasOwn(APPROVAL_COLUMNS, name);
}

export function approvalColumn(approval: SimApproval, column: ApprovalColumn): string {
  return APPROVAL_COLUMNS[column](approval);
}

/** The record as the Table API returns it: whole, or keyed by exactly the names the caller asked for. */
export function projectApproval(approval: SimApproval, columns: readonly ApprovalColumn[] | undefined): Record<string, string> {
  if (!columns) return { ...approval };
  return Object.fromEntries(columns.map((column) => [column, approvalColumn(approval, column)]));
}

export function newApproval(sysapproval: string, approver: string, group: string, at: Date): SimApproval {
  const now = glideDateTime(at);
  return { sys_id: newSysId(), sysapproval, approver, group, state: 'requested', comments: '', sys_created_on: now, sys_updated_on: now };
}
