import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createApprovalSweepActivities } from '../activities/approval-sweep';
import { createChangeRequestActivities, DEFAULT_APPROVAL_POLL_INTERVAL_MS } from '../activities/change-requests';
import { createClusterChangeActivities } from '../activities/cluster-changes';
import { createDeployActivities, type DeployPorts } from '../activities/deploy';
import { createDeployLaneActivities } from '../activities/deploy-lanes';
import type { DeployLanes } from '../activities/ports/deploy-lanes';
import type { WaitingRuns } from '../activities/ports/waiting-runs';
import { createLandingZoneActivities, type LandingZonePorts } from '../activities/landing-zone';
import { FAILURE_CONVERTER_PATH } from '../shared/codec/data-converter';
import { DEPLOY_TASK_QUEUE } from '../shared/contracts/deploy';

/**
 * What `bundleWorkflowCode` needs to build the same workflow bundle this worker builds for itself.
 * The failure converter is compiled into the bundle (the sandbox cannot take it from the worker), so
 * a bundle built without it writes its workflows' failure messages to history in plain text.
 */
export const deployWorkflowBundleOptions = {
  workflowsPath: require.resolve('../workflows'),
  failureConverterPath: FAILURE_CONVERTER_PATH,
} as const;

export interface DeployWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  ports: DeployPorts;
  landingZonePorts: LandingZonePorts;
  /** Deploy lanes (one deploy at a time per service and environment) on the worker's Temporal client. */
  lanes: DeployLanes;
  /** The runs the approval sweeper prompts (ADR 16), on the worker's Temporal client. */
  waitingRuns: WaitingRuns;
  /** How often the approval sweeper reads the decided changes (0 = never); default a minute. */
  approvalPollIntervalMs?: number;
  /**
   * Encrypts payloads and failure messages (the platform's data converter); plain JSON when absent
   * (tests with fakes). Its failure converter also goes into the bundle the worker builds itself.
   */
  dataConverter?: WorkerOptions['dataConverter'];
  taskQueue?: string;
  /** Cache and slot bounds (`PlatformConfig.worker`); the SDK's defaults when absent (tests). */
  limits?: { maxCachedWorkflows: number; maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number };
  /**
   * A pre-built bundle (tests build one per file, with `deployWorkflowBundleOptions`); otherwise the
   * workflows are bundled at start.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The identity Temporal records for this worker's tasks (`newWorkerIdentity`); the SDK's `pid@host` when absent. */
  identity?: string;
}

/** The platform's worker: deploy and landing-zone workflows with their activities over the ports. */
export async function createDeployWorker(options: DeployWorkerOptions): Promise<Worker> {
  const intervalMs = options.approvalPollIntervalMs ?? DEFAULT_APPROVAL_POLL_INTERVAL_MS;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEPLOY_TASK_QUEUE,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activities: {
      ...createChangeRequestActivities(options.ports.changes, { intervalMs }),
      ...createApprovalSweepActivities(options.ports.changes, options.waitingRuns, { intervalMs }),
      ...createClusterChangeActivities(options.ports.cluster),
      ...createDeployActivities(options.ports),
      ...createDeployLaneActivities(options.lanes),
      ...createLandingZoneActivities(options.landingZonePorts),
    },
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : // Worker.create hands dataConverter.failureConverterPath to the bundler itself.
        { workflowsPath: deployWorkflowBundleOptions.workflowsPath }),
    ...(options.limits
      ? {
          maxCachedWorkflows: options.limits.maxCachedWorkflows,
          maxConcurrentActivityTaskExecutions: options.limits.maxConcurrentActivities,
          maxConcurrentWorkflowTaskExecutions: options.limits.maxConcurrentWorkflowTasks,
        }
      : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    // A deploy run spends most of its life waiting for approval; shut down promptly on SIGTERM.
    shutdownGraceTime: '10s',
  });
}
