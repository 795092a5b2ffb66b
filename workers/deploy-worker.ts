import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createDeployActivities, type DeployPorts } from '../activities/deploy';
import { createLandingZoneActivities, type LandingZonePorts } from '../activities/landing-zone';
import { DEPLOY_TASK_QUEUE } from '../shared/contracts/deploy';

export interface DeployWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  ports: DeployPorts;
  landingZonePorts: LandingZonePorts;
  /** How often a run waiting for approval reads its change (0 = never); default a minute. */
  approvalPollIntervalMs?: number;
  /** Encrypts payloads (the platform's data converter); plain JSON when absent (tests with fakes). */
  dataConverter?: WorkerOptions['dataConverter'];
  taskQueue?: string;
  /** A pre-built bundle (tests build one per file); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The platform's worker: deploy and landing-zone workflows with their activities over the ports. */
export async function createDeployWorker(options: DeployWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEPLOY_TASK_QUEUE,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activities: {
      ...createDeployActivities(options.ports, options.approvalPollIntervalMs !== undefined ? { approvalPollIntervalMs: options.approvalPollIntervalMs } : {}),
      ...createLandingZoneActivities(options.landingZonePorts),
    },
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    // A deploy run spends most of its life waiting for approval; shut down promptly on SIGTERM.
    shutdownGraceTime: '10s',
  });
}
