/**
 * The fallback for a missed approval webhook. While a run waits for approval it schedules this
 * activity once; each attempt reads the change a single time and either returns ServiceNow's
 * decision or fails as "still pending" with the next attempt `intervalMs` later. Temporal's retry
 * does the waiting: no worker slot is held between reads and no history event is written per
 * read, and the attempts are logged at DEBUG (a BENIGN failure), not as warnings.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ApprovalDecision } from '../shared/domain';
import type { ChangeManagement } from './ports/change-management';

/** Retryable on purpose: it is how the activity says "ask again later". Not an `ErrorType`. */
export const APPROVAL_PENDING = 'ApprovalPending';

/** With polling off, attempts still come (the workflow schedules them) but do not read; this far apart. */
const OFF_RETRY_MS = 3_600_000;

export interface ApprovalPollOptions {
  /** Between two reads of the change; 0 turns polling off. */
  intervalMs: number;
}

export function createApprovalPollActivities(changes: ChangeManagement, { intervalMs }: ApprovalPollOptions) {
  return {
    async awaitChangeDecision({ sysId, changeNumber }: { sysId: string; changeNumber: string }): Promise<ApprovalDecision> {
      let seen = 'not read (polling is off)';
      if (intervalMs > 0) {
        const change = await changes.get(sysId);
        if (change.approval === 'approved' || change.approval === 'rejected') {
          return { decision: change.approval, approver: change.decidedBy || 'unknown (read from ServiceNow)', changeNumber, via: 'poll' };
        }
        seen = change.approval;
      }
      const nextRetryDelay = intervalMs > 0 ? intervalMs : OFF_RETRY_MS;
      throw ApplicationFailure.create({
        type: APPROVAL_PENDING,
        message: `change ${changeNumber}: approval ${seen}; reading it again in ${Math.round(nextRetryDelay / 1000)}s`,
        nextRetryDelay,
        category: ApplicationFailureCategory.BENIGN,
      });
    },
  };
}
