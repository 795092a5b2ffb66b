/** Activities of deploy lanes (ADR 15): the only steps of a lane that need the Temporal client. */
import type { DeployLaneInput, LaneMember, LaneRef } from '../shared/contracts/deploy-lane';
import type { DeployLanes } from './ports/deploy-lanes';

export function createDeployLaneActivities(lanes: DeployLanes) {
  return {
    /** Signal-with-start: a deploy run cannot start another workflow or signal one that may not exist. */
    async joinDeployLane(input: { laneId: string; taskQueue: string; lane: Omit<DeployLaneInput, 'carried'>; member: LaneMember }): Promise<void> {
      await lanes.join(input.laneId, input.taskQueue, input.lane, input.member);
    },

    /** Lets a lane drop members that ended without leaving (terminated by an operator). */
    async endedLaneMembers(runs: LaneRef[]): Promise<LaneRef[]> {
      return lanes.ended(runs);
    },
  };
}

export type DeployLaneActivities = ReturnType<typeof createDeployLaneActivities>;
