import type { DeployLaneInput, LaneMember, LaneRef } from '../../shared/contracts/deploy-lane';

/** The orchestrator's side of deploy lanes (ADR 15): joining one, and which members have ended. */
export interface DeployLanes {
  /** Announces `member` to the lane `laneId`, starting it on `taskQueue` when it is not running. Idempotent. */
  join(laneId: string, taskQueue: string, lane: Omit<DeployLaneInput, 'carried'>, member: LaneMember): Promise<void>;
  /** The runs among `runs` that are no longer running (ended, terminated, or unknown). */
  ended(runs: LaneRef[]): Promise<LaneRef[]>;
}
