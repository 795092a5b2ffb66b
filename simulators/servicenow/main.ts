/**
 * ServiceNow simulator process (development and tests only; not product code). Speaks the Table API
 * subset the platform's adapter uses and sends the signed approval webhook, like a real instance.
 */
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { startServiceNowSimulator } from './server';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'simulator');
  const logger = createLogger('servicenow-sim', config.logLevel);
  const simulator = await startServiceNowSimulator({
    host: config.simulator.host,
    port: config.simulator.port,
    dataFile: config.simulator.dataFile,
    credentials: { user: config.servicenow.user, password: config.servicenow.password },
    webhook: { url: config.simulator.webhookUrl, secret: config.servicenow.webhookSecret },
    log: (message) => logger.info(message),
  });
  logger.info('listening', { url: simulator.url, records: config.simulator.dataFile, webhook: config.simulator.webhookUrl });
  const shutdown = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`servicenow-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
