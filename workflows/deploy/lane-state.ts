/**
 * The rule of a deploy lane, as pure state transitions (the lane workflow sends what they return):
 * - at most one run holds the lane, from its first change to the cluster until it has ended
 *   (compensation included), so no two runs of one service change one environment at once;
 * - a run that joins supersedes every older run that does not hold the lane (preparing, waiting
 *   for approval or queued): only the newest request is worth deploying;
 * - a run that joins older than the newest one seen is superseded by it at once;
 * - when the holder leaves, the run waiting for its turn (there is at most one) gets the lane.
 */
import type { LaneEffect, LaneMember, LanePhase, LaneRef, LaneSnapshot } from '../../shared/contracts/deploy-lane';

export type { LaneEffect };

function isNewer(a: LaneMember, b: LaneMember): boolean {
  return a.startedAt !== b.startedAt ? a.startedAt > b.startedAt : a.workflowId !== b.workflowId ? a.workflowId > b.workflowId : a.runId > b.runId;
}

function ref({ workflowId, runId }: LaneRef): LaneRef {
  return { workflowId, runId };
}

export class LaneState {
  private readonly members = new Map<string, { member: LaneMember; phase: LanePhase }>();
  private newest: LaneMember | undefined;

  constructor(snapshot?: LaneSnapshot) {
    for (const entry of snapshot?.members ?? []) this.members.set(entry.member.runId, { ...entry });
    this.newest = snapshot?.newest;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  get holder(): LaneMember | undefined {
    return [...this.members.values()].find((m) => m.phase === 'holding')?.member;
  }

  /** Members waiting for the lane (queued behind the holder). */
  get waiting(): LaneMember[] {
    return [...this.members.values()].filter((m) => m.phase === 'waiting').map((m) => m.member);
  }

  all(): LaneMember[] {
    return [...this.members.values()].map((m) => m.member);
  }

  snapshot(): LaneSnapshot {
    return { members: [...this.members.values()].map((m) => ({ ...m })), ...(this.newest ? { newest: this.newest } : {}) };
  }

  join(member: LaneMember): LaneEffect[] {
    if (this.members.has(member.runId)) return []; // a retried join
    if (this.newest && this.newest.runId !== member.runId && isNewer(this.newest, member)) {
      return [{ kind: 'supersede', to: ref(member), by: ref(this.newest) }];
    }
    this.newest = member;
    const effects: LaneEffect[] = [];
    for (const [runId, entry] of this.members) {
      if (entry.phase === 'holding') continue;
      this.members.delete(runId);
      effects.push({ kind: 'supersede', to: ref(entry.member), by: ref(member) });
    }
    this.members.set(member.runId, { member, phase: 'joined' });
    return effects;
  }

  /** A member is ready to change the cluster. Unknown runs (superseded, left) get nothing. */
  request(run: LaneRef): LaneEffect[] {
    const entry = this.members.get(run.runId);
    if (!entry) return [];
    if (entry.phase === 'holding') return [{ kind: 'grant', to: ref(run) }]; // a retried request
    const holder = this.holder;
    if (!holder) {
      entry.phase = 'holding';
      return [{ kind: 'grant', to: ref(run) }];
    }
    entry.phase = 'waiting';
    return [{ kind: 'queued', to: ref(run), behind: ref(holder) }];
  }

  leave(run: LaneRef): LaneEffect[] {
    const entry = this.members.get(run.runId);
    if (!entry) return [];
    this.members.delete(run.runId);
    return entry.phase === 'holding' ? this.grantNext() : [];
  }

  private grantNext(): LaneEffect[] {
    const next = this.waiting.sort((a, b) => (isNewer(a, b) ? -1 : 1))[0];
    if (!next) return [];
    const entry = this.members.get(next.runId);
    if (entry) entry.phase = 'holding';
    return [{ kind: 'grant', to: ref(next) }];
  }
}
