/**
 * Deployment operations on Temporal, in the API's words: start (idempotently), read status, cancel,
 * find the run of a change, deliver an approval. Refers to the workflow by name only, so the API
 * never loads workflow code.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  isGrpcDeadlineError,
  ServiceError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type QueryDefinition,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  DEPLOY_TASK_QUEUE,
  DEPLOY_WORKFLOW_TYPE,
  approvalSignal,
  deployWorkflowId,
  statusQuery,
  type DeploymentStatus,
  type DeploymentStatusView,
  type DeployInput,
} from '../shared/contracts/deploy';
import { ApplicationFailure } from '@temporalio/common';
import { approvalUpdate, runStatusQuery, type DecisionAnswer } from '../shared/contracts/run';
import type { ApprovalDecision, DeployRequest, EnvironmentPolicy } from '../shared/domain';
import {
  ChangeNumber,
  DeployEnvironment,
  DeployIdempotencyKey,
  DeployProject,
  DeployService,
  DeployStage,
  DeployStatus,
} from '../shared/search-attributes';

export interface StartResult {
  /** False when an existing run was returned instead of starting a new one. */
  created: boolean;
  workflowId: string;
  runId: string;
  /** False when the existing run was started with a different request body. */
  requestMatches: boolean;
}

export interface DeploymentSnapshot {
  workflowId: string;
  runId: string;
  project?: string;
  /** Null when the worker could not answer the status query (the run is still described). */
  view: DeploymentStatusView | null;
  status: DeploymentStatus;
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

export interface DeploymentServiceOptions {
  taskQueue?: string;
  /** Status queries need a worker; give up after this long and answer from the run's metadata. */
  queryTimeoutMs?: number;
  /** Visibility is eventually consistent: how long to keep looking for a change's run. */
  visibilityWaitMs?: number;
  /** How long a delivered decision may wait for the run's verdict before it is queued instead. */
  decisionWaitMs?: number;
}

/** The call's deadline passed (the update's start or its long poll for the result). */
function timedOut(error: unknown): boolean {
  return (
    error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    isGrpcDeadlineError(error) ||
    (error instanceof ServiceError && isGrpcDeadlineError(error.cause))
  );
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function statusFromDescription(description: WorkflowExecutionDescription): DeploymentStatus {
  const recorded = description.typedSearchAttributes.get(DeployStatus);
  if (recorded) return recorded as DeploymentStatus;
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

export class DeploymentService {
  private readonly taskQueue: string;
  private readonly queryTimeoutMs: number;
  private readonly visibilityWaitMs: number;
  private readonly decisionWaitMs: number;

  constructor(
    private readonly client: Client,
    options: DeploymentServiceOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEPLOY_TASK_QUEUE;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
    this.visibilityWaitMs = options.visibilityWaitMs ?? 3_000;
    // Well inside the 10 s a ServiceNow REST message (and the simulator) waits for an answer.
    this.decisionWaitMs = options.decisionWaitMs ?? 5_000;
  }

  /** Hash of an Idempotency-Key, scoped to the caller so two callers' keys never collide. */
  static idempotencyKeyHash(subject: string, key: string): string {
    return sha256(`${subject}\n${key}`);
  }

  /** Identifies a request body, so a reused Idempotency-Key with a different body is refused. */
  static fingerprint(request: DeployRequest): string {
    return sha256(JSON.stringify(request));
  }

  async findByIdempotencyKey(keyHash: string): Promise<{ workflowId: string; runId: string; fingerprint?: string } | undefined> {
    for await (const execution of this.client.workflow.list({ query: `${DeployIdempotencyKey.name} = "${keyHash}"`, pageSize: 1 })) {
      return { workflowId: execution.workflowId, runId: execution.runId, fingerprint: execution.memo?.requestFingerprint as string | undefined };
    }
    return undefined;
  }

  /**
   * Starts a run, or returns the open run of the same project/service/environment/digest
   * (deterministic workflow id + USE_EXISTING). A fresh nonce in the memo tells which happened.
   */
  async start(request: DeployRequest, policy: EnvironmentPolicy, keyHash?: string): Promise<StartResult> {
    const workflowId = deployWorkflowId(request);
    const fingerprint = DeploymentService.fingerprint(request);
    const nonce = randomUUID();
    const input: DeployInput = { request, policy };
    const handle = await this.client.workflow.start(DEPLOY_WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { requestFingerprint: fingerprint, requestNonce: nonce },
      typedSearchAttributes: [
        { key: DeployProject, value: request.project },
        { key: DeployService, value: request.service },
        { key: DeployEnvironment, value: request.environment },
        { key: DeployStage, value: 'scan' },
        { key: DeployStatus, value: 'running' },
        ...(keyHash ? [{ key: DeployIdempotencyKey, value: keyHash }] : []),
      ],
      staticSummary: `Deploy ${request.service} to ${request.project}/${request.environment}`,
      staticDetails: [
        `**Image** \`${request.image.reference}\``,
        `**Route** ${request.route.host}${request.route.path} → port ${request.port}, ${request.replicas} replicas`,
        `**Requested by** ${request.requestedBy}`,
        `**Policy** approval ${policy.approval.required ? `required within ${Math.round(policy.approval.deadlineMs / 3_600_000)} h` : 'not required'}, blocks ${policy.scan.blockSeverities.join('/') || 'nothing'}`,
      ].join('\n\n'),
    });
    const description = await handle.describe();
    return {
      created: description.memo?.requestNonce === nonce,
      workflowId,
      runId: description.runId,
      requestMatches: description.memo?.requestFingerprint === fingerprint,
    };
  }

  /** The run's description, or undefined when there is no such run. */
  private async describe(workflowId: string, runId?: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await this.client.workflow.getHandle(workflowId, runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** Answers a query within the query timeout; null when no worker answers in time. */
  private async queryWithin<T>(workflowId: string, runId: string, query: QueryDefinition<T>): Promise<T | null> {
    try {
      return await this.client.withDeadline(Date.now() + this.queryTimeoutMs, () => this.client.workflow.getHandle(workflowId, runId).query(query));
    } catch {
      return null; // no worker to answer: callers fall back to what Temporal itself records
    }
  }

  /** The latest run under `workflowId` (or the given run); undefined when there is none. */
  async snapshot(workflowId: string, runId?: string): Promise<DeploymentSnapshot | undefined> {
    const description = await this.describe(workflowId, runId);
    if (!description || description.type !== DEPLOY_WORKFLOW_TYPE) return undefined;
    const view = await this.queryWithin(workflowId, description.runId, statusQuery);
    return {
      workflowId,
      runId: description.runId,
      project: description.typedSearchAttributes.get(DeployProject),
      view,
      status: view?.status ?? statusFromDescription(description),
    };
  }

  /**
   * The status of any platform run (deployment or landing zone), for the approval webhook:
   * from the run's own `status` query, or its DeployStatus search attribute without a worker.
   */
  async runStatus(workflowId: string, runId: string): Promise<DeploymentStatus | undefined> {
    const description = await this.describe(workflowId, runId);
    if (!description) return undefined;
    return (await this.queryWithin(workflowId, runId, runStatusQuery))?.status ?? statusFromDescription(description);
  }

  async cancel(workflowId: string, runId: string): Promise<void> {
    await this.client.workflow.getHandle(workflowId, runId).cancel();
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
      for await (const execution of this.client.workflow.list({ query, pageSize: 1 })) {
        return { workflowId: execution.workflowId, runId: execution.runId };
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 250));
    }
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
