/**
 * The deployment runs the orchestrator knows, through Temporal's visibility store (search
 * attributes the deploy workflow sets at start). Visibility lags a little behind; the caller checks
 * again later where that matters.
 */
import type { Client } from '@temporalio/client';
import { DEPLOY_WORKFLOW_TYPE } from '../../../shared/contracts/deploy';
import { DeployProject } from '../../../shared/search-attributes';
import type { DeploymentRuns } from '../../ports/deployment-runs';

const PROJECT = /^[a-z][-a-z0-9]{0,62}$/;

export function createTemporalDeploymentRuns(client: Client): DeploymentRuns {
  return {
    async inFlight(project) {
      // The project goes into a visibility query: only DNS labels, which need no quoting.
      if (!PROJECT.test(project)) throw new Error(`project ${JSON.stringify(project)} is not a DNS label`);
      const query = `WorkflowType = '${DEPLOY_WORKFLOW_TYPE}' AND ${DeployProject.name} = '${project}' AND ExecutionStatus = 'Running'`;
      const runs: { workflowId: string; runId: string }[] = [];
      for await (const execution of client.workflow.list({ query })) runs.push({ workflowId: execution.workflowId, runId: execution.runId });
      return runs;
    },
  };
}
