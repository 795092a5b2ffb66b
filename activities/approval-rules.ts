/**
 * Judges what ServiceNow records about a change against the platform's approver rules. ServiceNow
 * is the source of truth for decisions; these rules are the platform's own floor on top of the
 * instance's approval rules (separation of duties, approver groups, a quorum), so a lax or
 * misconfigured instance cannot approve a deploy alone.
 */
import type { ApprovalRecord, ApproverRules, ChangeRecord, ChangeVerdict } from '../shared/domain';

/** Runs whose policy predates approver rules: one approver from any group, not the requester. */
export const DEFAULT_APPROVER_RULES: ApproverRules = { groups: [], quorum: 1 };

const STATE_CLOSED = '3';
const STATE_CANCELED = '4';

const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

export interface DecisionContext {
  rules: ApproverRules;
  /** Identities that may not approve: the authenticated requester and whoever `requestedBy` names. */
  requesters: string[];
}

/** Why one approval record does not count, or undefined when it does. */
function notCounted(record: ApprovalRecord, { rules, requesters }: DecisionContext): string | undefined {
  if (requesters.some((r) => same(r, record.approver))) return 'is the requester';
  if (rules.groups.length > 0 && !rules.groups.some((g) => same(g, record.group))) {
    return `approved for group ${record.group || '(none)'}, not ${rules.groups.join(' or ')}`;
  }
  return undefined;
}

export function judgeChange(change: ChangeRecord, approvals: readonly ApprovalRecord[], context: DecisionContext): ChangeVerdict {
  if (change.approval === 'rejected') {
    const rejectedBy = [...new Set(approvals.filter((a) => a.state === 'rejected').map((a) => a.approver))];
    if (rejectedBy.length === 0 && change.decidedBy) rejectedBy.push(change.decidedBy);
    return { kind: 'rejected', rejectedBy, detail: `ServiceNow records ${change.number} as rejected` };
  }
  // Cancelled in ServiceNow while waiting: nobody can approve it any more.
  if (change.state === STATE_CANCELED || (change.state === STATE_CLOSED && change.approval !== 'approved')) {
    return { kind: 'rejected', rejectedBy: [], detail: `${change.number} was ${change.state === STATE_CANCELED ? 'cancelled' : 'closed'} in ServiceNow before it was approved` };
  }
  if (change.approval !== 'approved') {
    return { kind: 'pending', detail: `ServiceNow records no decision on ${change.number} (approval ${change.approval})` };
  }

  const counted = new Set<string>();
  const reasons: string[] = [];
  for (const record of approvals) {
    if (record.state !== 'approved') continue;
    const why = notCounted(record, context);
    if (why) reasons.push(`${record.approver} ${why}`);
    else if (![...counted].some((c) => same(c, record.approver))) counted.add(record.approver);
  }
  const { quorum, groups } = context.rules;
  if (counted.size >= quorum) return { kind: 'approved', approvers: [...counted] };
  const needed = `${quorum} distinct approver${quorum === 1 ? '' : 's'}${groups.length > 0 ? ` from ${groups.join(' or ')}` : ''}, none of them the requester`;
  const have = counted.size === 0 ? 'none counts yet' : `${counted.size} so far (${[...counted].join(', ')})`;
  return {
    kind: 'refused',
    detail: `ServiceNow records ${change.number} as approved, but the policy needs ${needed}: ${have}${reasons.length > 0 ? `; not counted: ${reasons.join('; ')}` : ''}`,
  };
}

/** True when the verdict is a decision the run can act on. */
export function isDecided(verdict: ChangeVerdict): verdict is Extract<ChangeVerdict, { kind: 'approved' | 'rejected' }> {
  return verdict.kind === 'approved' || verdict.kind === 'rejected';
}
