/**
 * The HTTP API: CI pipelines start and follow deployments, ServiceNow reports decisions.
 * Built from explicit dependencies so tests can run it on an ephemeral port.
 */
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { payloadCodecFor } from '../shared/codec/data-converter';
import type { PlatformConfig } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { PlatformStore } from '../shared/store';
import { Audit } from './audit';
import { requireBearerToken } from './auth';
import { NotFoundError, problemHandler } from './errors';
import { createOidcVerifier } from './oidc';
import { rateLimitPerPrincipal, TokenBuckets } from './rate-limit';
import { assignRequestId, requestIdOf } from './request-id';
import { auditRoutes } from './routes/audit';
import { codecRoutes } from './routes/codec';
import { configRoutes } from './routes/config';
import { deploymentRoutes } from './routes/deployments';
import { docsRoutes } from './routes/docs';
import { landingZoneRoutes } from './routes/landing-zones';
import { runListRoutes } from './routes/run-lists';
import { DeploymentService } from './services/deployments';
import { LandingZoneService } from './services/landing-zones';
import { TemporalRuns, type TemporalRunsOptions } from './temporal-runs';
import { serviceNowWebhook } from './webhooks/servicenow';

export interface AppDeps {
  config: PlatformConfig;
  /** The Temporal client; only TemporalRuns uses it. */
  client: Client;
  store: PlatformStore;
  logger: Logger;
  now?: () => number;
  /** Timeouts toward Temporal (tests shorten them). */
  temporal?: Pick<TemporalRunsOptions, 'queryTimeoutMs' | 'visibilityWaitMs' | 'decisionWaitMs'>;
}

export function createApp({ config, client, store, logger, now, temporal }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const runs = new TemporalRuns(client, { namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, uiUrl: config.temporal.uiUrl, workflowTaskTimeoutMs: config.temporal.workflowTaskTimeoutMs, ...temporal });
  const deployments = new DeploymentService({ config, runs, landingZones: store.landingZones, configuration: store.configuration, idempotency: store.idempotency });
  const landingZones = new LandingZoneService({ config, runs, landingZones: store.landingZones });
  const audit = new Audit(store.audit, logger);

  app.use(assignRequestId());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const log = res.statusCode >= 500 ? logger.error : logger.info;
      log(`${req.method} ${req.originalUrl.split('?')[0]} ${res.statusCode}`, { ms: Math.round(ms), requestId: requestIdOf(res) });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await runs.ping();
      res.json({ status: 'ready', temporal: config.temporal.address });
    } catch (error) {
      res.status(503).type('application/problem+json').json({
        type: 'about:blank',
        title: 'Not ready',
        status: 503,
        detail: `Temporal at ${config.temporal.address} is not reachable: ${error instanceof Error ? error.message : String(error)}`,
        requestId: requestIdOf(res),
      });
    }
  });

  app.use(docsRoutes(config));
  app.use(codecRoutes({ config, codec: payloadCodecFor(config), issuedTokens: (hash) => store.tokens.grantFor(hash) }));
  const webhookLimit = config.limits.webhook ? new TokenBuckets(config.limits.webhook) : undefined;
  app.use(
    '/v1/webhooks/servicenow',
    serviceNowWebhook({ secrets: [config.servicenow.webhookSecret, config.servicenow.previousWebhookSecret], runs, logger, now, audit, ...(webhookLimit ? { limit: webhookLimit } : {}) }),
  );
  app.use(
    '/v1',
    express.json({ limit: config.api.bodyLimitBytes, type: 'application/json' }),
    requireBearerToken(config.ciTokens, (hash) => store.tokens.grantFor(hash), config.ciIdentities ? createOidcVerifier(config.ciIdentities, { logger }) : undefined),
    rateLimitPerPrincipal(config.limits.perToken),
    runListRoutes({ config, runs, landingZones: store.landingZones }),
    deploymentRoutes({ config, deployments, runs, audit }),
    landingZoneRoutes({ config, landingZones, runs, audit }),
    configRoutes({ configuration: store.configuration, landingZones: store.landingZones, audit }),
    auditRoutes({ audit: store.audit }),
  );

  app.use((req) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(logger));
  return app;
}
