/**
 * The contract of the deploy workflow: its name, task queue, messages, input, status and id.
 * Importable from workflows, workers, the API and tests; holds no side effects.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type {
  ApprovalDecision,
  ChangeOutcome,
  DeployRequest,
  EnvironmentPolicy,
  ScanSummary,
} from '../domain';

export const DEPLOY_TASK_QUEUE = 'platform-deploy';
export const DEPLOY_WORKFLOW_TYPE = 'deployWorkflow';

export interface DeployInput {
  request: DeployRequest;
  /** The environment policy as resolved when the run was requested (auditable in history). */
  policy: EnvironmentPolicy;
}

export const DEPLOY_STAGES = [
  'scan',
  'render',
  'openChange',
  'awaitApproval',
  'deploy',
  'wireMesh',
  'verify',
  'closeChange',
] as const;
export type DeployStage = (typeof DEPLOY_STAGES)[number];
/** `compensate` while undoing, `done` once the run has ended. */
export type DeployPhase = DeployStage | 'compensate' | 'done';

export type DeploymentStatus =
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'rolled_back'
  | 'cancelled';

export const TERMINAL_STATUSES: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'rolled_back',
  'cancelled',
];

export interface StepRecord {
  /** A stage name, or `undo:<stage>` for a compensating step. */
  name: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface ApprovalView {
  required: boolean;
  /** ISO time the approval window closes, once the wait has begun. */
  deadline?: string;
  decision?: ApprovalDecision['decision'] | 'expired';
  approver?: string;
  comment?: string;
  decidedAt?: string;
}

export interface DeploymentStatusView {
  deploymentId: string;
  project: string;
  service: string;
  environment: string;
  image: string;
  requestedBy: string;
  status: DeploymentStatus;
  stage: DeployPhase;
  startedAt: string;
  endedAt?: string;
  steps: StepRecord[];
  approval: ApprovalView;
  scan?: ScanSummary;
  change?: { number: string; sysId: string; url?: string; outcome?: ChangeOutcome };
  release?: { chart: string; contentHash: string; namespace: string; pinnedImage: string };
  revisions: { deploy?: string; mesh?: string };
  error?: { type: string; message: string };
  /** Failures of compensating steps, which need a human. */
  compensationErrors: { step: string; message: string }[];
}

export type DeployResult = DeploymentStatusView;

export const approvalSignal = defineSignal<[ApprovalDecision]>('approval');
export const statusQuery = defineQuery<DeploymentStatusView>('status');

/**
 * The deterministic workflow id of a deployment: the same project/service/environment/digest
 * always maps to the same id, which is what makes starting idempotent while a run is open.
 * Names are DNS labels (no dots), so the dot separator is unambiguous.
 */
export function deployWorkflowId(request: Pick<DeployRequest, 'project' | 'service' | 'environment' | 'image'>): string {
  const digestHex = request.image.digest.replace(/^sha256:/, '').slice(0, 16);
  return `deploy.${request.project}.${request.service}.${request.environment}.${digestHex}`;
}

/** Kubernetes namespace a project's environment deploys into. */
export function projectNamespace(project: string, environment: string): string {
  return `${project}-${environment}`;
}
