/**
 * Activities of deploy lanes (ADR 15): the only steps of a lane that need the Temporal client.
 * Runs and lanes call them as local activities (ADR 19): one Temporal request each, that never
 * waits for another workflow, recorded as a marker in the caller's own workflow task instead of an
 * activity task or a signal command, each of which costs the caller another workflow task.
 */
import type { DeployLaneInput, LaneEffect, LaneMember, LaneRef } from '../shared/contracts/deploy-lane';
import type { DeployLanes } from './ports/deploy-lanes';

export function createDeployLaneActivities(lanes: DeployLanes) {
  return {
    /** Signal-with-start: a deploy run cannot start another workflow or signal one that may not exist. */
    async joinDeployLane(input: { laneId: string; taskQueue: string; lane: Omit<DeployLaneInput, 'carried'>; member: LaneMember }): Promise<void> {
      await lanes.join(input.laneId, input.taskQueue, input.lane, input.member);
    },

    /**
     * Joins and asks for the turn at once, for a run that waits for nothing before its first change
     * to the cluster (ADR 21). `holding`: no lane was running, so the run started one that it
     * holds. `asked`: it joined the running lane and asked; the lane answers with a signal.
     * Membership keeps the lane open until the request; if an operator ended the lane in between,
     * the attempt fails and its retry starts again. A retry after a start that succeeded finds the
     * run's own lane running, joins it again (ignored) and asks again: a holder is granted again.
     */
    async joinDeployLaneAndRequestTurn(input: { laneId: string; taskQueue: string; lane: Omit<DeployLaneInput, 'carried'>; member: LaneMember }): Promise<'holding' | 'asked'> {
      if (await lanes.startHolding(input.laneId, input.taskQueue, input.lane, input.member)) return 'holding';
      await lanes.join(input.laneId, input.taskQueue, input.lane, input.member);
      const { workflowId, runId } = input.member;
      if (!(await lanes.request(input.laneId, { workflowId, runId }))) throw new Error(`the deploy lane ${input.laneId} ended between the join and the request`);
      return 'asked';
    },

    /** Asks for the lane's turn; `false` when the lane is gone (the run joins it again). */
    async requestLaneTurn(input: { laneId: string; run: LaneRef }): Promise<boolean> {
      return lanes.request(input.laneId, input.run);
    },

    /** Hands the lane on; `false` when the lane is gone (nothing to hand on). */
    async leaveDeployLane(input: { laneId: string; run: LaneRef }): Promise<boolean> {
      return lanes.leave(input.laneId, input.run);
    },

    /** A lane tells a run its turn, whom it waits behind, or that it is superseded; `false` when the run has ended. */
    async tellLaneMember(effect: LaneEffect): Promise<boolean> {
      return lanes.tell(effect);
    },

    /** Lets a lane drop members that ended without leaving (terminated by an operator). */
    async endedLaneMembers(runs: LaneRef[]): Promise<LaneRef[]> {
      return lanes.ended(runs);
    },
  };
}

export type DeployLaneActivities = ReturnType<typeof createDeployLaneActivities>;
