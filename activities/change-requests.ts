/**
 * Change requests, for every flow that opens one (deployments, landing zones and their updates
 * and decommissions): closing a change with its outcome, and reading its decision.
 *
 * Reading a change's decision in ServiceNow, the only source the platform acts on.
 *
 * `readChangeVerdict` reads the change and its approval records once and judges them against the
 * approver rules; a run calls it whenever someone reports a decision (webhook, signal, update).
 *
 * `pollChangeVerdict` is the fallback for a missed approval webhook. While a run waits for approval it schedules this
 * activity once; each attempt reads the change a single time and either returns ServiceNow's
 * decision or fails as "still pending" with the next attempt `intervalMs` later. Temporal's retry
 * does the waiting: no worker slot is held between reads and no history event is written per
 * read, and the attempts are logged at DEBUG (a BENIGN failure), not as warnings.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ApprovalDecision, ApproverRules, ChangeReading, ChangeRecord } from '../shared/domain';
import { isDecided, judgeChange } from './approval-rules';
import { whileHeartbeating } from './heartbeat';
import type { ChangeManagement, CloseChangeRequest } from './ports/change-management';

export interface ChangeVerdictRequest {
  sysId: string;
  changeNumber: string;
  rules: ApproverRules;
  /** Identities that may not approve (the authenticated requester, the named requester). */
  requesters: string[];
}

/** Retryable on purpose: it is how the activity says "ask again later". Not an `ErrorType`. */
export const APPROVAL_PENDING = 'ApprovalPending';

/** With polling off, attempts still come (the workflow schedules them) but do not read; this far apart. */
const OFF_RETRY_MS = 3_600_000;

/** ServiceNow's own GitHub Action polls every 100 s; a minute keeps a missed webhook cheap. */
export const DEFAULT_APPROVAL_POLL_INTERVAL_MS = 60_000;

export interface ApprovalPollOptions {
  /** Between two reads of the change; 0 turns polling off. */
  intervalMs: number;
}

export function createChangeRequestActivities(changes: ChangeManagement, { intervalMs = DEFAULT_APPROVAL_POLL_INTERVAL_MS }: Partial<ApprovalPollOptions> = {}) {
  async function read({ sysId, rules, requesters }: ChangeVerdictRequest): Promise<ChangeReading> {
    const [change, approvals] = await Promise.all([changes.get(sysId), changes.approvals(sysId)]);
    const verdict = judgeChange(change, approvals, { rules, requesters });
    return { verdict, ...(change.window ? { window: change.window } : {}) };
  }

  return {
    async closeChange(request: CloseChangeRequest): Promise<ChangeRecord> {
      return whileHeartbeating(() => changes.close(request));
    },

    readChangeVerdict: read,

    /** Returns once ServiceNow holds a decision the rules accept; otherwise "ask again later". */
    async pollChangeVerdict(request: ChangeVerdictRequest): Promise<ChangeReading> {
      let seen = 'not read (polling is off)';
      if (intervalMs > 0) {
        const reading = await read(request);
        if (isDecided(reading.verdict)) return reading;
        seen = reading.verdict.detail;
      }
      throw pending(request.changeNumber, seen);
    },

    /** Legacy: what runs that began waiting before verified decisions still schedule. */
    async awaitChangeDecision({ sysId, changeNumber }: { sysId: string; changeNumber: string }): Promise<ApprovalDecision> {
      let seen = 'not read (polling is off)';
      if (intervalMs > 0) {
        const change = await changes.get(sysId);
        if (change.approval === 'approved' || change.approval === 'rejected') {
          return { decision: change.approval, approver: change.decidedBy || 'unknown (read from ServiceNow)', changeNumber, via: 'poll' };
        }
        seen = change.approval;
      }
      throw pending(changeNumber, `approval ${seen}`);
    },
  };

  function pending(changeNumber: string, seen: string): ApplicationFailure {
    const nextRetryDelay = intervalMs > 0 ? intervalMs : OFF_RETRY_MS;
    return ApplicationFailure.create({
      type: APPROVAL_PENDING,
      message: `change ${changeNumber}: ${seen}; reading it again in ${Math.round(nextRetryDelay / 1000)}s`,
      nextRetryDelay,
      category: ApplicationFailureCategory.BENIGN,
    });
  }
}

export type ChangeRequestActivities = ReturnType<typeof createChangeRequestActivities>;
