/**
 * Worker process entry point: loads configuration, builds the adapters, connects to Temporal and
 * polls the deploy task queue until SIGINT/SIGTERM.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString, DefaultLogger } from '@temporalio/worker';
import { createDeployPorts, createLandingZonePorts } from '../activities/adapters';
import { createTemporalDeployLanes } from '../activities/adapters/temporal-runs/lanes';
import { createTemporalWaitingRuns } from '../activities/adapters/temporal-runs/waiting-runs';
import { dataConverterFor } from '../shared/codec/data-converter';
import { loadConfig } from '../shared/config';
import { createLogger, type LogLevel } from '../shared/logger';
import { openPlatformStore } from '../shared/store';
import { ensureApprovalSweeper } from './approval-sweeper';
import { createDeployWorker, deployWorkflowBundleOptions } from './deploy-worker';
import { loadWorkflowBundle } from './workflow-bundle';
import { loadMallocTrimBinding, startMallocTrim } from './malloc-trim';
import { loggableSdkFields } from './sdk-log';
import { newWorkerIdentity, takeOverFromDeadPredecessors } from './takeover';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'worker');
  const logger = createLogger('worker', config.logLevel);
  // The SDK's own INFO lines (worker state changes) are noise in an operator's log; its warnings
  // and errors (activity failures, workflow log.warn/error) go through our logger, without
  // failure messages that name people.
  const sdkLevel = config.logLevel === 'debug' ? 'DEBUG' : config.logLevel === 'error' ? 'ERROR' : 'WARN';
  const toOurs: Record<string, LogLevel> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) => logger[toOurs[entry.level] ?? 'info'](entry.message, loggableSdkFields(entry.meta))),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  const store = openPlatformStore(config.databaseFile);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // A plain client for the activities that look at other runs (a decommission checks that no deployment is in flight).
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const dataConverter = dataConverterFor(config);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter });
  try {
    // Built once per content in a child process: restarts skip webpack, and its memory is not ours.
    const bundle = await loadWorkflowBundle({
      bundleOptions: deployWorkflowBundleOptions,
      ...(config.worker.bundleCacheDir ? { cacheDir: config.worker.bundleCacheDir } : {}),
      log: (line) => logger.info(line),
    });
    const ports = createDeployPorts(config);
    const identity = newWorkerIdentity();
    const worker = await createDeployWorker({
      connection,
      namespace: config.temporal.namespace,
      ports,
      landingZonePorts: createLandingZonePorts(config, store, ports, { client, log: (line) => logger.info(line) }),
      lanes: createTemporalDeployLanes(client, { workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs }),
      waitingRuns: createTemporalWaitingRuns(client, config.temporal.taskQueue),
      approvalPollIntervalMs: config.servicenow.pollIntervalMs,
      dataConverter,
      taskQueue: config.temporal.taskQueue,
      limits: config.worker,
      workflowBundle: { codePath: bundle.codePath },
      identity,
    });
    await ensureApprovalSweeper(client, config.temporal.taskQueue, config.servicenow.pollIntervalMs, { workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs });
    // Before the first poll, so that no run this worker has already picked up loses its place.
    const registration = await takeOverFromDeadPredecessors(client, {
      dataDir: config.dataDir,
      taskQueue: config.temporal.taskQueue,
      identity,
      log: (message, fields) => logger.warn(message, fields),
    });
    const loaded = config.worker.mallocTrimIntervalMs > 0 ? loadMallocTrimBinding() : undefined;
    if (loaded && 'unavailable' in loaded) logger.info('the C heap is not trimmed', { reason: loaded.unavailable });
    const trimmer = startMallocTrim({
      intervalMs: config.worker.mallocTrimIntervalMs,
      binding: loaded && 'binding' in loaded ? loaded.binding : undefined,
      log: (message, fields) => logger.warn(message, fields),
    });
    logger.info('polling', { taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, gitops: config.gitops.repoDir, servicenow: config.servicenow.url, identity, mallocTrim: trimmer.active ? `every ${config.worker.mallocTrimIntervalMs} ms` : 'off' });
    try {
      await worker.run();
    } finally {
      trimmer.stop();
    }
    await registration.settled;
    registration.forget();
    logger.info('stopped', { mallocTrims: trimmer.stats.trims, mallocTrimsReleased: trimmer.stats.released, mallocTrimMs: Math.round(trimmer.stats.totalMs) });
  } finally {
    await clientConnection.close();
    await connection.close();
    store.close();
  }
}

main().catch((error: unknown) => {
  console.error(`worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
