/**
 * The contract of the deploy workflow: its name, task queue, messages, input, status and id.
 * Importable from workflows, workers, the API and tests; holds no side effects.
 */
import { defineQuery } from '@temporalio/workflow';
import type { DeployRequest, EnvironmentPolicy, ScanSummary } from '../domain';
import type { RunStatus, RunView } from './run';

export const DEPLOY_TASK_QUEUE = 'platform-deploy';
export const DEPLOY_WORKFLOW_TYPE = 'deployWorkflow';

export interface DeployInput {
  request: DeployRequest;
  /** The environment policy as resolved when the run was requested (auditable in history). */
  policy: EnvironmentPolicy;
  /** Where people follow the run (absent in runs started before it was recorded). */
  links?: { apiUrl: string };
}

export const DEPLOY_STAGES = [
  'scan',
  'render',
  'openChange',
  'awaitApproval',
  'awaitWindow',
  'rescan',
  /** Waiting for the service's deploy lane (ADR 15); recorded by runs started since lanes exist. */
  'queue',
  'deploy',
  'wireMesh',
  'verify',
  'closeChange',
] as const;
export type DeployStage = (typeof DEPLOY_STAGES)[number];
/** `compensate` while undoing, `done` once the run has ended. */
export type DeployPhase = DeployStage | 'compensate' | 'done';

export type DeploymentStatus = RunStatus;
export { TERMINAL_STATUSES, approvalSignal, type ApprovalView, type StepRecord } from './run';

export interface DeploymentStatusView extends RunView<DeployStage> {
  deploymentId: string;
  project: string;
  service: string;
  environment: string;
  image: string;
  requestedBy: string;
  scan?: ScanSummary;
  /** The second scan, when approval came later than the environment's scan freshness limit. */
  rescan?: ScanSummary;
  release?: { chart: string; contentHash: string; namespace: string; pinnedImage: string };
  revisions: { deploy?: string; mesh?: string };
  /** While `queued`: the run of the same service and environment this one waits for. */
  queuedBehind?: { deploymentId: string; runId: string };
  /** When `superseded`: the newer run that replaced this one. */
  supersededBy?: { deploymentId: string; runId: string };
}

export type DeployResult = DeploymentStatusView;

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
