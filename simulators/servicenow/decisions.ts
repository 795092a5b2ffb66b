/**
 * What one approver's Approve or Reject does to a change, as an instance's approval rules decide it:
 * the approver's own sysapproval_approver record takes the decision, then the change's `approval`
 * follows from all its records. Pure, so the rule can be read (and tested) apart from HTTP.
 *
 * The rule: any rejection rejects the change (state canceled); it is approved (state scheduled) once
 * `approvalsRequired` distinct approvers have approved. An approval that arrives after the rule is
 * met is still recorded: the platform may ask for more approvers than the instance does. A
 * rejection that arrives after approval, before the change is closed, still rejects it.
 */
import { newApproval, type ApprovalState, type SimApproval } from './approval-records';
import { appendComment, glideDateTime, STATES, type SimChange } from './records';

export type DecisionAction = 'approve' | 'reject';

export interface DecisionInput {
  action: DecisionAction;
  approver: string;
  /** The approval group; the change's assignment group (or DEFAULT_APPROVAL_GROUP) otherwise. */
  group?: string;
  comment?: string;
}

export type Decided =
  | { outcome: 'refused'; reason: string }
  /** The approver had already made this decision: nothing is written and no webhook goes out. */
  | { outcome: 'unchanged'; approval: SimApproval }
  | { outcome: 'decided'; change: SimChange; approval: SimApproval };

/** Used when neither the caller nor the change names a group. */
export const DEFAULT_APPROVAL_GROUP = 'change-approvers';

const STATE_OF: Record<DecisionAction, ApprovalState> = { approve: 'approved', reject: 'rejected' };
const CLOSED_STATES: readonly string[] = [STATES.closed, STATES.canceled];

/** Undefined when the change can take a decision; the reason otherwise (HTTP 409). */
function refusal(change: SimChange): string | undefined {
  if (change.approval === 'rejected') return `change ${change.number} has approval "rejected"; a rejected change cannot be decided again`;
  // A closed or cancelled change may still show approval 'requested' but can no longer be decided.
  if (CLOSED_STATES.includes(change.state)) return `change ${change.number} is in state ${change.state} (closed or cancelled); it can no longer be decided`;
  // Standard changes are pre-approved from a template: an instance generates no approvers for them.
  if (change.type === 'standard') return `change ${change.number} is a standard change with approval "${change.approval}"; it has no approvers`;
  if (change.approval !== 'requested' && change.approval !== 'approved') return `change ${change.number} has approval "${change.approval}"; only a requested or approved change can be decided`;
  return undefined;
}

function changeApproval(current: string, approvals: readonly SimApproval[], approvalsRequired: number): string {
  if (approvals.some((a) => a.state === 'rejected')) return 'rejected';
  // One record per approver, so counting records counts distinct approvers.
  if (approvals.filter((a) => a.state === 'approved').length >= approvalsRequired) return 'approved';
  return current;
}

function decidedRecord(existing: SimApproval | undefined, change: SimChange, input: DecisionInput, at: Date): SimApproval {
  const group = input.group ?? existing?.group ?? (change.assignment_group || DEFAULT_APPROVAL_GROUP);
  const record = existing ?? newApproval(change.sys_id, input.approver, group, at);
  return {
    ...record,
    group,
    state: STATE_OF[input.action],
    comments: input.comment ? appendComment(record.comments, input.comment) : record.comments,
    sys_updated_on: glideDateTime(at),
  };
}

/** `approvals` are the change's own records. */
export function decide(change: SimChange, approvals: readonly SimApproval[], input: DecisionInput, approvalsRequired: number, at: Date): Decided {
  const refused = refusal(change);
  if (refused) return { outcome: 'refused', reason: refused };
  const existing = approvals.find((a) => a.approver === input.approver);
  if (existing?.state === STATE_OF[input.action]) return { outcome: 'unchanged', approval: existing };

  const approval = decidedRecord(existing, change, input, at);
  const after = [...approvals.filter((a) => a.sys_id !== approval.sys_id), approval];
  const next = changeApproval(change.approval, after, approvalsRequired);
  const flipped = next !== change.approval;
  return {
    outcome: 'decided',
    approval,
    change: {
      ...change,
      approval: next,
      state: flipped ? (next === 'approved' ? STATES.scheduled : STATES.canceled) : change.state,
      // The approver whose decision settled the change, as before approvers were modelled.
      u_approved_by: flipped ? input.approver : change.u_approved_by,
      comments: input.comment ? appendComment(change.comments, input.comment) : change.comments,
      sys_updated_on: glideDateTime(at),
    },
  };
}
