/**
 * The API's one way to Temporal: start runs (idempotently), read a run's status with a fallback
 * when no worker answers, find runs (by change, by query, in pages), deliver decisions, cancel,
 * and the link to a run in the Temporal UI. Services turn requests into workflow inputs; only
 * this module holds the Temporal client. Workflows are referred to by name, so the API never
 * loads workflow code.
 */
import {
  Connection,
  defaultGrpcRetryOptions,
  isGrpcDeadlineError,
  isGrpcServiceError,
  makeGrpcRetryInterceptor,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type QueryDefinition,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure, type SearchAttributePair } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { DEPLOY_WORKFLOW_TYPE } from '../shared/contracts/deploy';
import { approvalSignal, approvalUpdate, TERMINAL_STATUSES, type DecisionAnswer, type RunStatus } from '../shared/contracts/run';
import type { ApprovalDecision } from '../shared/domain';
import { ChangeNumber, DeployEnvironment, DeployProject, DeployService, DeployStage, DeployStatus } from '../shared/search-attributes';
import { temporalUiLink } from '../shared/temporal-ui';

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

/** A run as the API shows it: the workflow's own status view, or what Temporal records without a worker. */
export interface RunSnapshot<View> {
  workflowId: string;
  runId: string;
  type: string;
  /** Null when no worker answered the status query in time. */
  view: View | null;
  status: RunStatus;
  project?: string;
  memo: Record<string, unknown>;
}

export interface StartOptions {
  workflowId: string;
  args: unknown[];
  /** `use-existing`: an open run under the id is returned instead; `fail`: RunAlreadyOpenError. */
  whenOpen: 'use-existing' | 'fail';
  memo?: Record<string, unknown>;
  searchAttributes: SearchAttributePair[];
  summary: string;
  details?: string;
}

export interface Started {
  workflowId: string;
  runId: string;
  /** False when an open run was returned instead of starting one. */
  created: boolean;
  /** The memo of the run returned (the new one, or the open one). */
  memo: Record<string, unknown>;
}

/** What became of a decision delivered to a run. */
export type DecisionDelivery =
  /** The run answered (applied, duplicate, or refused after reading ServiceNow). */
  | { kind: 'answered'; answer: DecisionAnswer }
  /** The run's validator refused it before recording anything (`type` is a DecisionRejection). */
  | { kind: 'not-accepted'; type: string; message: string }
  /** No worker answered in time: the decision was queued as a signal and will be checked then. */
  | { kind: 'queued' }
  /** The run has ended. */
  | { kind: 'closed' };

/** `start` with `whenOpen: 'fail'` met an open run under the id. */
export class RunAlreadyOpenError extends Error {
  override readonly name = 'RunAlreadyOpenError';
}

/** A cursor that cannot have come from this API. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export interface TemporalRunsOptions {
  namespace: string;
  taskQueue: string;
  /** Base of links to the Temporal UI. */
  uiUrl: string;
  /** Workflow task timeout of the runs started here; Temporal's default (10 s) when absent. */
  workflowTaskTimeoutMs?: number;
  /** Status queries need a worker; give up after this long and answer from the run's metadata. */
  queryTimeoutMs?: number;
  /** Visibility is eventually consistent: how long to keep looking for a change's run. */
  visibilityWaitMs?: number;
  /** How long a delivered decision may wait for the run's verdict before it is queued instead. */
  decisionWaitMs?: number;
}

const TEMPORAL_STATUS: Record<number, RunStatus | 'terminated' | 'continued' | 'timed_out'> = {
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'running',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'succeeded',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED]: 'failed',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'cancelled',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'terminated',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'continued',
  [WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'timed_out',
};

/**
 * The API's connection to Temporal: few, quick retries, so an unreachable server becomes a 503 in
 * about half a second instead of the client's default 18 s of retries (callers then retry, told
 * when by Retry-After). Lazy, so the API starts while Temporal is still coming up.
 */
export function apiConnection(address: string): Connection {
  return Connection.lazy({ address, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3, maxIntervalMs: () => 300 }))] });
}

/** gRPC codes that mean Temporal could not be reached (or did not answer in time), not a refusal. */
const UNREACHABLE_CODES = new Set([14 /* UNAVAILABLE */, 4 /* DEADLINE_EXCEEDED */]);

/** True when `error` says Temporal could not be reached, however the client wrapped it. */
export function isTemporalUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'number' && UNREACHABLE_CODES.has(code) && (cause instanceof ServiceError || isGrpcServiceError(cause))) return true;
  }
  return false;
}

/** A value inside a visibility query: keyword values are quoted, and quotes and backslashes escaped. */
export function queryValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function statusFromDescription(description: WorkflowExecutionDescription): RunStatus {
  const recorded = description.typedSearchAttributes.get(DeployStatus);
  if (recorded) return recorded as RunStatus;
  switch (description.status.name) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return 'succeeded';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

/** The call's deadline passed (the update's start or its long poll for the result). */
function timedOut(error: unknown): boolean {
  return (
    error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    isGrpcDeadlineError(error) ||
    (error instanceof ServiceError && isGrpcDeadlineError(error.cause))
  );
}

const isoOf = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export class TemporalRuns {
  private readonly queryTimeoutMs: number;
  private readonly visibilityWaitMs: number;
  private readonly decisionWaitMs: number;

  constructor(
    private readonly client: Client,
    private readonly options: TemporalRunsOptions,
  ) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
    this.visibilityWaitMs = options.visibilityWaitMs ?? 3_000;
    // Well inside the 10 s a ServiceNow REST message (and the simulator) waits for an answer.
    this.decisionWaitMs = options.decisionWaitMs ?? 5_000;
  }

  /** The run's page in the Temporal UI (its history), or the workflow id's latest run. */
  uiLink(workflowId: string, runId?: string): string {
    return temporalUiLink(this.options.uiUrl, this.options.namespace, workflowId, runId);
  }

  /**
   * Starts a run. With `use-existing`, an open run under the same id is returned instead; with
   * `fail`, RunAlreadyOpenError. The start itself refuses an open run (one call, and no describe
   * when the run is new); only then is the open run described, and when it ended meanwhile the
   * start is tried again.
   */
  async start(type: string, options: StartOptions): Promise<Started> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const handle = await this.client.workflow.start(type, {
          taskQueue: this.options.taskQueue,
          workflowId: options.workflowId,
          args: options.args,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          ...(this.options.workflowTaskTimeoutMs ? { workflowTaskTimeout: this.options.workflowTaskTimeoutMs } : {}),
          ...(options.memo ? { memo: options.memo } : {}),
          typedSearchAttributes: options.searchAttributes,
          staticSummary: options.summary,
          ...(options.details ? { staticDetails: options.details } : {}),
        });
        return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, created: true, memo: { ...options.memo } };
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        if (options.whenOpen === 'fail') throw new RunAlreadyOpenError(`a run of ${options.workflowId} is open`);
      }
      const open = await this.describe(options.workflowId);
      if (open?.status.name === 'RUNNING') return { workflowId: options.workflowId, runId: open.runId, created: false, memo: open.memo ?? {} };
      if (attempt >= 3) throw new Error(`could not start ${options.workflowId}: a run kept opening and closing under the id`);
    }
  }

  /** The run's description, or undefined when there is no such run. */
  async describe(workflowId: string, runId?: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await this.client.workflow.getHandle(workflowId, runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** The latest run under `workflowId` (or the given run) with its status view; undefined when there is none. */
  async snapshot<View extends { status: RunStatus }>(workflowId: string, query: QueryDefinition<View>, options: { runId?: string; type?: string } = {}): Promise<RunSnapshot<View> | undefined> {
    const description = await this.describe(workflowId, options.runId);
    if (!description || (options.type && description.type !== options.type)) return undefined;
    const view = await this.queryWithin(workflowId, description.runId, query);
    return {
      workflowId,
      runId: description.runId,
      type: description.type,
      view,
      status: view?.status ?? statusFromDescription(description),
      project: description.typedSearchAttributes.get(DeployProject),
      memo: description.memo ?? {},
    };
  }

  /** Answers a query within the query timeout; null when no worker answers in time. */
  private async queryWithin<T>(workflowId: string, runId: string, query: QueryDefinition<T>): Promise<T | null> {
    try {
      return await this.client.withDeadline(Date.now() + this.queryTimeoutMs, () => this.client.workflow.getHandle(workflowId, runId).query(query));
    } catch {
      return null; // no worker to answer: callers fall back to what Temporal itself records
    }
  }

  /** The newest run a visibility query selects, with its memo. */
  async findOne(query: string): Promise<{ workflowId: string; runId: string; memo: Record<string, unknown> } | undefined> {
    for await (const execution of this.client.workflow.list({ query, pageSize: 1 })) {
      return { workflowId: execution.workflowId, runId: execution.runId, memo: execution.memo ?? {} };
    }
    return undefined;
  }

  /**
   * The run that opened `changeNumber` (and whose run id is `correlationId`, when ServiceNow sends
   * it), waiting briefly for visibility to catch up with a change opened moments ago.
   */
  async findByChangeNumber(changeNumber: string, correlationId?: string): Promise<{ workflowId: string; runId: string } | undefined> {
    if (!/^[A-Z0-9]+$/.test(changeNumber)) return undefined;
    if (correlationId !== undefined && !/^[0-9a-f-]{36}$/.test(correlationId)) return undefined;
    const query = `${ChangeNumber.name} = "${changeNumber}"${correlationId ? ` AND RunId = "${correlationId}"` : ''}`;
    const deadline = Date.now() + this.visibilityWaitMs;
    for (;;) {
      const found = await this.findOne(query);
      if (found) return found;
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * The deployment runs of `project` still open (a decommission refuses while there are any). A run
   * that has recorded its final status is not counted: it is closing (runs started before the
   * `leave-lane-before-final-status` patch still leave their deploy lane after it), and its status
   * already reads final to the user who decommissions next.
   */
  async openDeployments(project: string): Promise<{ workflowId: string; runId: string }[]> {
    const ended = TERMINAL_STATUSES.map(queryValue).join(', ');
    const query =
      `WorkflowType = ${queryValue(DEPLOY_WORKFLOW_TYPE)} AND ${DeployProject.name} = ${queryValue(project)} AND ExecutionStatus = 'Running' ` +
      `AND ${DeployStatus.name} NOT IN (${ended})`;
    const runs: { workflowId: string; runId: string }[] = [];
    for await (const execution of this.client.workflow.list({ query })) runs.push({ workflowId: execution.workflowId, runId: execution.runId });
    return runs;
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
      response = await this.client.workflowService.listWorkflowExecutions({ namespace: this.options.namespace, query, pageSize, nextPageToken });
    } catch (error) {
      // A token Temporal does not accept is the caller's mistake, not an outage. Temporal does not
      // always say so (a made-up token can answer UNKNOWN): with a cursor, anything but an outage is.
      if (cursor && !isTemporalUnreachable(error)) throw new InvalidCursorError('the cursor is not valid (expired, or from another list)');
      throw error;
    }
    const runs = (response.executions ?? []).map((execution): RunSummary => {
      const attributes = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
      const optional = {
        stage: attributes.get(DeployStage),
        project: attributes.get(DeployProject),
        service: attributes.get(DeployService),
        environment: attributes.get(DeployEnvironment),
        changeNumber: attributes.get(ChangeNumber),
        startedAt: isoOf(optionalTsToMs(execution.startTime)),
        closedAt: isoOf(optionalTsToMs(execution.closeTime)),
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

  async cancel(workflowId: string, runId: string): Promise<void> {
    await this.client.workflow.getHandle(workflowId, runId).cancel();
  }

  /**
   * Reports a decision to the run and returns its verdict: the run reads the change in ServiceNow
   * before it answers. Without a worker to answer within `decisionWaitMs` (a restart, a backlog),
   * the decision is queued as a signal instead, which the run checks the same way when it resumes.
   */
  async deliverDecision(workflowId: string, runId: string, decision: ApprovalDecision): Promise<DecisionDelivery> {
    const handle = this.client.workflow.getHandle(workflowId, runId);
    try {
      const answer = await this.client.withDeadline(Date.now() + this.decisionWaitMs, () => handle.executeUpdate(approvalUpdate, { args: [decision] }));
      return { kind: 'answered', answer };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof ApplicationFailure ? error.cause : undefined;
        return { kind: 'not-accepted', type: cause?.type ?? 'Error', message: cause?.message ?? error.message };
      }
      if (error instanceof WorkflowNotFoundError) return { kind: 'closed' };
      if (!timedOut(error)) {
        if ((await this.describe(workflowId, runId))?.status.name !== 'RUNNING') return { kind: 'closed' };
        throw error;
      }
    }
    await handle.signal(approvalSignal, decision);
    return { kind: 'queued' };
  }

  /** Ready when the Temporal frontend answers. */
  async ping(timeoutMs = 2_000): Promise<void> {
    await this.client.withDeadline(Date.now() + timeoutMs, () => this.client.connection.workflowService.getSystemInfo({}));
  }
}
