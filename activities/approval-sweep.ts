/**
 * The approval sweeper's one activity (ADR 16). Instead of every waiting run reading its own change
 * once a minute (two ServiceNow reads per run per interval, growing with the backlog), one sweep
 * per interval lists the changes decided since the last sweep in one paged query and prompts the
 * runs waiting on them. A prompted run reads its change and judges it exactly as it does for a
 * webhook, so ServiceNow reads per interval are the query's pages plus two per decision.
 */
import type { SweepResult } from '../shared/contracts/approval-sweeper';
import { heartbeatIfInActivity } from './heartbeat';
import type { ChangeManagement } from './ports/change-management';
import type { WaitingRuns } from './ports/waiting-runs';

export interface ApprovalSweepOptions {
  /** Between two sweeps (SERVICENOW_POLL_INTERVAL); 0 turns the sweeper off. */
  intervalMs: number;
  /**
   * How far back each sweep re-reads before the previous one started: covers clock skew between
   * this worker and ServiceNow, and rows committed late. A decision is seen by a few sweeps; runs
   * that already left the wait are not prompted (the visibility query selects waiting runs only).
   */
  overlapMs?: number;
  /** The first sweep of a new sweeper reads this far back (the longest approval wait of a run). */
  lookbackMs?: number;
  now?: () => Date;
}

export const DEFAULT_SWEEP_OVERLAP_MS = 120_000;
export const DEFAULT_SWEEP_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** A sweep stops paging here and continues next time: a bound on one activity's work. */
const MAX_PAGES_PER_SWEEP = 50;

export function createApprovalSweepActivities(changes: ChangeManagement, runs: WaitingRuns, options: ApprovalSweepOptions) {
  const { intervalMs, overlapMs = DEFAULT_SWEEP_OVERLAP_MS, lookbackMs = DEFAULT_SWEEP_LOOKBACK_MS, now = () => new Date() } = options;
  return {
    async sweepDecidedChanges({ since }: { since?: string }): Promise<SweepResult> {
      const startedAt = now();
      if (intervalMs <= 0) return { nextSince: since ?? startedAt.toISOString(), intervalMs: 0, pages: 0, decided: 0, prompted: 0 };
      const from = since ? new Date(since) : new Date(startedAt.getTime() - lookbackMs);
      let pages = 0;
      let decided = 0;
      let prompted = 0;
      let offset: number | undefined = 0;
      let lastUpdatedAt: string | undefined;
      while (offset !== undefined && pages < MAX_PAGES_PER_SWEEP) {
        const page = await changes.decidedSince(from, { offset, limit: 100 });
        pages += 1;
        decided += page.changes.length;
        prompted += await runs.prompt(page.changes.map((c) => c.number));
        lastUpdatedAt = page.changes.at(-1)?.updatedAt ?? lastUpdatedAt;
        heartbeatIfInActivity({ pages, decided, prompted });
        offset = page.next;
      }
      // Cut short: the next sweep resumes from the last row read instead of skipping the rest.
      const resumeFrom = offset !== undefined && lastUpdatedAt ? new Date(lastUpdatedAt) : new Date(startedAt.getTime() - overlapMs);
      const nextSince = resumeFrom.getTime() < from.getTime() ? from : resumeFrom;
      return { nextSince: nextSince.toISOString(), intervalMs, pages, decided, prompted };
    },
  };
}

export type ApprovalSweepActivities = ReturnType<typeof createApprovalSweepActivities>;
