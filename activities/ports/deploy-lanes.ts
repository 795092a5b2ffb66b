import type { DeployLaneInput, LaneEffect, LaneMember, LaneRef } from '../../shared/contracts/deploy-lane';

/** The orchestrator's side of deploy lanes (ADR 15): joining one, and which members have ended. */
export interface DeployLanes {
  /** Announces `member` to the lane `laneId`, starting it on `taskQueue` when it is not running. Idempotent. */
  join(laneId: string, taskQueue: string, lane: Omit<DeployLaneInput, 'carried'>, member: LaneMember): Promise<void>;
  /**
   * Starts the lane `laneId` on `taskQueue` with `member` holding it, when no lane of that id is
   * running (ADR 21): the run may change the cluster at once, and nobody has to tell it so.
   * Resolves `false` when a lane is running: join it and request the turn instead.
   */
  startHolding(laneId: string, taskQueue: string, lane: Omit<DeployLaneInput, 'carried'>, member: LaneMember): Promise<boolean>;
  /**
   * Tells the lane that `run` is ready to change the cluster (the lane answers with a signal).
   * Resolves `false` when the lane is not running (terminated by an operator): join it again.
   */
  request(laneId: string, run: LaneRef): Promise<boolean>;
  /** Tells the lane that `run` has ended. Resolves `false` when the lane is not running (nothing to leave). */
  leave(laneId: string, run: LaneRef): Promise<boolean>;
  /** Tells a run what its lane decided. Resolves `false` when the run has ended (it needs nothing). */
  tell(effect: LaneEffect): Promise<boolean>;
  /** The runs among `runs` that are no longer running (ended, terminated, or unknown). */
  ended(runs: LaneRef[]): Promise<LaneRef[]>;
}
