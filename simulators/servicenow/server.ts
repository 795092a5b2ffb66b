/**
 * Starts the ServiceNow simulator: the Table API under `/api/now/table/change_request` and
 * `/api/now/table/sysapproval_approver` (basic auth) and the approvers' buttons under `/sim`.
 * Records persist in `dataFile`, with a journal of recent changes beside it while running (see store.ts).
 */
import { createServer } from 'node:http';
import express from 'express';
import { listen } from '../../shared/listen';
import { approvalTableApi } from './approval-table-api';
import { simulatorApi } from './approvals';
import { changePage } from './change-page';
import type { Credentials } from './basic-auth';
import { errorEnvelope, sendError } from './http-errors';
import { ChangeStore, DEFAULT_FIRST_NUMBER, type ReadonlyChangeStore } from './store';
import { tableApi } from './table-api';
import type { WebhookTarget } from './webhook';

export interface ServiceNowSimulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  dataFile: string;
  /** The integration user the Table API accepts. Secret. */
  credentials: Credentials;
  webhook: WebhookTarget;
  log?: (message: string) => void;
  /** Sequence of the first change number (CHG0030001 by default); ignored once the data file exists. */
  firstNumber?: number;
  /**
   * The instance's approval rule: how many distinct approvers make a change approved (1 by
   * default). Any rejection rejects it whatever this says.
   */
  approvalsRequired?: number;
}

export interface RunningServiceNowSimulator {
  url: string;
  port: number;
  /** Read access to the changes and their approval records (`store.approvals(changeSysId)`), for tests. */
  store: ReadonlyChangeStore;
  close(): Promise<void>;
}

export function createSimulatorApp(store: ChangeStore, options: Pick<ServiceNowSimulatorOptions, 'credentials' | 'webhook' | 'approvalsRequired'>, log: (message: string) => void): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use('/api/now/table/change_request', tableApi(store, options.credentials, log));
  app.use('/api/now/table/sysapproval_approver', approvalTableApi(store, options.credentials));
  app.use(changePage(store));
  app.use('/sim', simulatorApi(store, { webhook: options.webhook, approvalsRequired: options.approvalsRequired ?? 1 }, log));
  app.use((req, res) => sendError(res, 404, 'Requested URI does not represent any resource', `${req.method} ${req.path} is not simulated`));
  app.use(errorEnvelope(log));
  return app;
}

export async function startServiceNowSimulator(options: ServiceNowSimulatorOptions): Promise<RunningServiceNowSimulator> {
  const { host = '127.0.0.1', port, dataFile, credentials, webhook, log = () => {}, firstNumber = DEFAULT_FIRST_NUMBER, approvalsRequired = 1 } = options;
  // Empty credentials would let an empty Authorization header in.
  if (!credentials.user || !credentials.password) throw new Error('ServiceNow simulator needs a user and a password');
  if (!webhook.secret) throw new Error('ServiceNow simulator needs a webhook secret to sign approvals');
  // Zero would approve a change nobody looked at.
  if (!Number.isInteger(approvalsRequired) || approvalsRequired < 1) throw new Error(`ServiceNow simulator approvalsRequired must be a positive integer, not ${approvalsRequired}`);

  const store = ChangeStore.open(dataFile, firstNumber, { log });
  const server = createServer(createSimulatorApp(store, { credentials, webhook, approvalsRequired }, log));
  const address = await listen(server, port, host);
  const shownHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    store,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => {
          try {
            // After the last request: a clean stop leaves the whole store in the data file and no journal.
            store.compact();
          } catch (compactError) {
            reject(compactError instanceof Error ? compactError : new Error(String(compactError)));
            return;
          }
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
