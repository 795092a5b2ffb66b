import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createDeployActivities, type DeployPorts } from '../activities/deploy';
import { DEPLOY_TASK_QUEUE } from '../shared/contracts/deploy';

export interface DeployWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  ports: DeployPorts;
  taskQueue?: string;
  /** A pre-built bundle (tests build one per file); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker for the deploy task queue: deploy workflows plus their activities over `ports`. */
export async function createDeployWorker(options: DeployWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEPLOY_TASK_QUEUE,
    activities: createDeployActivities(options.ports),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    // A deploy run spends most of its life waiting for approval; shut down promptly on SIGTERM.
    shutdownGraceTime: '10s',
  });
}
