/**
 * What changed between two readings of a run: the steps that ended (with their detail), a new
 * status or stage, the start of a wait for approval (change number, deadline), and approval
 * decisions the run refused. The waiting loop prints one line per event, so a pipeline log reads
 * as the run's story without repeating itself. A step's line carries the step's own time; status
 * and stage are printed only as they are seen, never guessed for steps that ended between two
 * readings.
 */
import type { RefusedDecision, RunView, StepRecord } from './types';

interface At {
  /** ISO time: when it happened if the run says so, else when it was seen. */
  at: string;
  status: string;
  stage: string;
}

export type ProgressEvent =
  | (At & { kind: 'step'; step: StepRecord })
  | (At & { kind: 'approval'; change?: string; changeUrl?: string; deadline?: string })
  | (At & { kind: 'refused'; refused: RefusedDecision })
  | (At & { kind: 'status'; windowStart?: string; behind?: string; supersededBy?: string });

const refusalKey = (refused: RefusedDecision): string => [refused.at, refused.via, refused.claimed, refused.approver, refused.deliveryId, refused.reason].join('|');

const approvalKey = (view: RunView | undefined): string | undefined =>
  view?.status === 'awaiting_approval' ? `${view.change?.number ?? ''}|${view.approval?.deadline ?? ''}` : undefined;

/** The events between `previous` (undefined for the first reading: everything so far) and `current`. */
export function progressEvents(previous: RunView | undefined, current: RunView, seenAt: Date): ProgressEvent[] {
  const now = seenAt.toISOString();
  const base = { status: current.status, stage: current.stage ?? '-' };
  const events: ProgressEvent[] = [];

  // Steps first: they ended before the run moved on to where it is now.
  (current.steps ?? []).forEach((step, index) => {
    if (step.status === 'running') return;
    const before = previous?.steps?.[index];
    const alreadyReported = before !== undefined && before.name === step.name && before.status !== 'running';
    if (!alreadyReported) events.push({ kind: 'step', step, at: step.endedAt ?? now, ...base });
  });

  if (previous === undefined || previous.status !== current.status || (previous.stage ?? '-') !== base.stage) {
    const windowStart = current.status === 'waiting_for_window' ? current.approval?.window?.start : undefined;
    const behind = current.status === 'queued' ? current.queuedBehind?.deploymentId : undefined;
    const supersededBy = current.status === 'superseded' ? current.supersededBy?.deploymentId : undefined;
    events.push({ kind: 'status', at: now, ...base, ...(windowStart ? { windowStart } : {}), ...(behind ? { behind } : {}), ...(supersededBy ? { supersededBy } : {}) });
  }

  const key = approvalKey(current);
  if (key !== undefined && key !== approvalKey(previous)) {
    events.push({
      kind: 'approval',
      at: now,
      ...base,
      ...(current.change?.number ? { change: current.change.number } : {}),
      ...(current.change?.url ? { changeUrl: current.change.url } : {}),
      ...(current.approval?.deadline ? { deadline: current.approval.deadline } : {}),
    });
  }

  const known = new Set((previous?.approval?.refused ?? []).map(refusalKey));
  for (const refused of current.approval?.refused ?? []) {
    if (!known.has(refusalKey(refused))) events.push({ kind: 'refused', refused, at: refused.at ?? now, ...base });
  }
  return events;
}
