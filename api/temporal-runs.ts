/**
 * Listing runs through Temporal's visibility store, one page at a time, and the link to a run in
 * the Temporal UI. Pages are addressed by an opaque cursor (Temporal's page token, base64url), so
 * a client walks a list without the API holding any state between requests.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { temporalUiLink } from '../shared/temporal-ui';
import { ChangeNumber, DeployEnvironment, DeployProject, DeployService, DeployStage, DeployStatus } from '../shared/search-attributes';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

export interface RunSummary {
  workflowId: string;
  runId: string;
  type: string;
  /** The platform's status (from the run's search attribute), else Temporal's own, lower-cased. */
  status: string;
  stage?: string;
  project?: string;
  service?: string;
  environment?: string;
  changeNumber?: string;
  startedAt?: string;
  closedAt?: string;
}

export interface RunPage {
  runs: RunSummary[];
  nextCursor?: string;
}

/** A cursor that cannot have come from this API. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

const TEMPORAL_STATUS: Record<number, string> = {
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'running',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'succeeded',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED]: 'failed',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'cancelled',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'terminated',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'continued',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'timed_out',
};

/** A value inside a visibility query: keyword values are quoted, and quotes and backslashes escaped. */
export function queryValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const isoOf = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export class TemporalRuns {
  constructor(
    private readonly client: Client,
    private readonly ui: { baseUrl: string; namespace: string },
  ) {}

  /** The run's page in the Temporal UI (its history), or the workflow id's latest run. */
  uiLink(workflowId: string, runId?: string): string {
    return temporalUiLink(this.ui.baseUrl, this.ui.namespace, workflowId, runId);
  }

  /** One page of the runs a visibility query selects, newest first. */
  async list(query: string, pageSize: number, cursor?: string): Promise<RunPage> {
    let nextPageToken: Uint8Array | undefined;
    if (cursor) {
      if (!/^[A-Za-z0-9_-]{1,4096}$/.test(cursor)) throw new InvalidCursorError('the cursor is not one this API returned');
      nextPageToken = Buffer.from(cursor, 'base64url');
    }
    let response: temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse;
    try {
      response = await this.client.workflowService.listWorkflowExecutions({ namespace: this.ui.namespace, query, pageSize, nextPageToken });
    } catch (error) {
      // A token Temporal does not accept is the caller's mistake, not an outage.
      if (cursor && /token|invalid argument/i.test(String(error))) throw new InvalidCursorError('the cursor is not valid (expired, or from another list)');
      throw error;
    }
    const runs = (response.executions ?? []).map((execution): RunSummary => {
      const attributes = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
      const startedAt = isoOf(optionalTsToMs(execution.startTime));
      const closedAt = isoOf(optionalTsToMs(execution.closeTime));
      const optional = {
        stage: attributes.get(DeployStage),
        project: attributes.get(DeployProject),
        service: attributes.get(DeployService),
        environment: attributes.get(DeployEnvironment),
        changeNumber: attributes.get(ChangeNumber),
        startedAt,
        closedAt,
      };
      return {
        workflowId: execution.execution?.workflowId ?? '',
        runId: execution.execution?.runId ?? '',
        type: execution.type?.name ?? '',
        status: attributes.get(DeployStatus) ?? TEMPORAL_STATUS[execution.status ?? 0] ?? 'unknown',
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      };
    });
    const token = response.nextPageToken;
    return { runs, ...(token && token.length > 0 ? { nextCursor: Buffer.from(token).toString('base64url') } : {}) };
  }
}
