/**
 * The floor's worker process (compiled or under tsx, as bench/lib/runtime.ts starts it), on the Temporal server and
 * task queue its environment names (BENCH_FLOOR_ADDRESS, BENCH_FLOOR_TASK_QUEUE). Same SDK and
 * defaults as the platform's worker; it bundles its workflows at start as the platform's does.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createFloorActivities } from './activities';

async function main(): Promise<void> {
  const address = process.env.BENCH_FLOOR_ADDRESS;
  const taskQueue = process.env.BENCH_FLOOR_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('BENCH_FLOOR_ADDRESS and BENCH_FLOOR_TASK_QUEUE are required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue,
      workflowsPath: require.resolve('./workflows'),
      activities: createFloorActivities(),
      shutdownGraceTime: '10s',
    });
    console.log(`floor worker polling ${taskQueue}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`floor worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
