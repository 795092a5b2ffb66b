/** Deploy lanes on Temporal: a lane is a workflow; joining it is a signal-with-start (or a start, holding it), the rest signals. */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  DEPLOY_LANE_WORKFLOW_TYPE,
  laneGrantedSignal,
  laneJoinSignal,
  laneLeaveSignal,
  laneQueuedSignal,
  laneRequestSignal,
  laneSupersededSignal,
  type DeployLaneInput,
  type LaneEffect,
  type LaneRef,
  type LaneSnapshot,
} from '../../../shared/contracts/deploy-lane';
import type { DeployLanes } from '../../ports/deploy-lanes';

/** `workflowTaskTimeoutMs`: a lane's workflow task held by a dead worker stalls every run of its service until then. */
export function createTemporalDeployLanes(client: Client, options: { workflowTaskTimeoutMs?: number } = {}): DeployLanes {
  /** `false` when the workflow to signal is not running. */
  const delivered = async (signalling: Promise<void>): Promise<boolean> => {
    try {
      await signalling;
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  };
  const signalLane = (laneId: string, signal: typeof laneRequestSignal, run: LaneRef): Promise<boolean> =>
    delivered(client.workflow.getHandle(laneId).signal(signal, { workflowId: run.workflowId, runId: run.runId }));
  const tell = (effect: LaneEffect): Promise<void> => {
    const run = client.workflow.getHandle(effect.to.workflowId, effect.to.runId);
    if (effect.kind === 'grant') return run.signal(laneGrantedSignal);
    if (effect.kind === 'queued') return run.signal(laneQueuedSignal, { behind: effect.behind });
    return run.signal(laneSupersededSignal, { by: effect.by });
  };

  const laneOptions = (laneId: string, taskQueue: string, lane: Omit<DeployLaneInput, 'carried'>) => ({
    workflowId: laneId,
    taskQueue,
    ...(options.workflowTaskTimeoutMs ? { workflowTaskTimeout: options.workflowTaskTimeoutMs } : {}),
    staticSummary: `deploy lane of ${lane.service} in ${lane.project}/${lane.environment}: one deploy at a time, newest request wins`,
  });

  return {
    async join(laneId, taskQueue, lane, member) {
      await client.workflow.signalWithStart(DEPLOY_LANE_WORKFLOW_TYPE, { ...laneOptions(laneId, taskQueue, lane), args: [lane], signal: laneJoinSignal, signalArgs: [member] });
    },

    async startHolding(laneId, taskQueue, lane, member) {
      // The lane starts from the state a continue-as-new would carry: this run holds it and is the
      // newest it has seen. Only one start of a running id succeeds, so two runs cannot both hold.
      const carried: LaneSnapshot = { members: [{ member, phase: 'holding' }], newest: member };
      try {
        await client.workflow.start(DEPLOY_LANE_WORKFLOW_TYPE, { ...laneOptions(laneId, taskQueue, lane), args: [{ ...lane, carried }], workflowIdConflictPolicy: 'FAIL' });
        return true;
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
        throw error;
      }
    },

    request: (laneId, run) => signalLane(laneId, laneRequestSignal, run),
    leave: (laneId, run) => signalLane(laneId, laneLeaveSignal, run),
    tell: (effect) => delivered(tell(effect)),

    async ended(runs) {
      const ended = [];
      for (const run of runs) {
        try {
          const { status } = await client.workflow.getHandle(run.workflowId, run.runId).describe();
          if (status.name !== 'RUNNING') ended.push(run);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          ended.push(run);
        }
      }
      return ended;
    },
  };
}
