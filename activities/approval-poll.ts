/**
 * The fallback for a missed approval webhook: while a run waits for approval, one long-running
 * activity reads its change every interval and returns ServiceNow's decision once there is one.
 * It heartbeats every few seconds (a dead worker is noticed, a cancelled wait reaches it) and
 * keeps no state between polls, so a retry simply starts polling again.
 */
import { Context } from '@temporalio/activity';
import type { ApprovalDecision } from '../shared/domain';
import type { ChangeManagement } from './ports/change-management';

/** Heartbeats at least this often while it sleeps between polls. */
const HEARTBEAT_MS = 5_000;

export interface ApprovalPollOptions {
  /** Between two reads of the change; 0 turns polling off (the activity then only waits to be cancelled). */
  intervalMs: number;
}

export function createApprovalPollActivities(changes: ChangeManagement, { intervalMs }: ApprovalPollOptions) {
  return {
    async awaitChangeDecision({ sysId, changeNumber }: { sysId: string; changeNumber: string }): Promise<ApprovalDecision> {
      const context = Context.current();
      for (;;) {
        if (intervalMs > 0) {
          const change = await changes.get(sysId);
          if (change.approval === 'approved' || change.approval === 'rejected') {
            return { decision: change.approval, approver: change.decidedBy || 'unknown (read from ServiceNow)', changeNumber, via: 'poll' };
          }
          context.heartbeat(`change ${changeNumber}: ${change.approval}`);
        }
        // Context.sleep rejects when the wait is cancelled (the webhook came first, or the run ended).
        const until = Date.now() + (intervalMs > 0 ? intervalMs : HEARTBEAT_MS);
        while (Date.now() < until) {
          await context.sleep(Math.min(HEARTBEAT_MS, until - Date.now()));
          context.heartbeat();
        }
      }
    },
  };
}
