/** API process entry point: configuration, one Temporal client, the HTTP server, clean shutdown. */
import { Client } from '@temporalio/client';
import { dataConverterFor } from '../shared/codec/data-converter';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { openPlatformStore } from '../shared/store';
import { createApp } from './app';
import { apiConnection } from './temporal-runs';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'api');
  const logger = createLogger('api', config.logLevel);
  // Connection.lazy: the API starts (and answers /healthz) even while Temporal is still coming up;
  // /readyz tells when it can serve.
  const connection = apiConnection(config.temporal.address);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterFor(config) });
  const store = openPlatformStore(config.databaseFile);
  const app = createApp({ config, client, store, logger });
  const server = app.listen(config.api.port, config.api.host, () => {
    logger.info('listening', { url: `http://${config.api.host}:${config.api.port}`, public: config.api.publicBaseUrl });
  });
  server.on('error', (error) => {
    logger.error('cannot listen', { error: error.message, port: config.api.port });
    process.exit(1);
  });
  const shutdown = (): void => {
    logger.info('shutting down');
    server.close(() => {
      store.close();
      void connection.close().finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`api: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
