/**
 * Worker process entry point: loads configuration, builds the adapters, connects to Temporal and
 * polls the deploy task queue until SIGINT/SIGTERM.
 */
import { NativeConnection, Runtime, makeTelemetryFilterString, DefaultLogger } from '@temporalio/worker';
import { createDeployPorts } from '../activities/adapters';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createDeployWorker } from './deploy-worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'worker');
  const logger = createLogger('worker', config.logLevel);
  const sdkLevel = config.logLevel === 'debug' ? 'DEBUG' : config.logLevel === 'info' ? 'INFO' : config.logLevel === 'warn' ? 'WARN' : 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel === 'INFO' ? 'WARN' : sdkLevel, (entry) =>
      logger[entry.level === 'TRACE' || entry.level === 'DEBUG' ? 'debug' : entry.level === 'INFO' ? 'info' : entry.level === 'WARN' ? 'warn' : 'error'](entry.message, entry.meta),
    ),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createDeployWorker({ connection, namespace: config.temporal.namespace, ports: createDeployPorts(config), taskQueue: config.temporal.taskQueue });
    logger.info('polling', { taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, gitops: config.gitops.repoDir, servicenow: config.servicenow.url });
    await worker.run();
    logger.info('stopped');
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
