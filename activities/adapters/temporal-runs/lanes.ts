/** Deploy lanes on Temporal: a lane is a workflow; joining it is a signal-with-start. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DEPLOY_LANE_WORKFLOW_TYPE, laneJoinSignal } from '../../../shared/contracts/deploy-lane';
import type { DeployLanes } from '../../ports/deploy-lanes';

/** `workflowTaskTimeoutMs`: a lane's workflow task held by a dead worker stalls every run of its service until then. */
export function createTemporalDeployLanes(client: Client, options: { workflowTaskTimeoutMs?: number } = {}): DeployLanes {
  return {
    async join(laneId, taskQueue, lane, member) {
      await client.workflow.signalWithStart(DEPLOY_LANE_WORKFLOW_TYPE, {
        workflowId: laneId,
        taskQueue,
        args: [lane],
        signal: laneJoinSignal,
        signalArgs: [member],
        ...(options.workflowTaskTimeoutMs ? { workflowTaskTimeout: options.workflowTaskTimeoutMs } : {}),
        staticSummary: `deploy lane of ${lane.service} in ${lane.project}/${lane.environment}: one deploy at a time, newest request wins`,
      });
    },

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
