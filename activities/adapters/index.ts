/**
 * Chooses the adapter behind each port from configuration. Today every port has one adapter
 * (the embedded defaults plus the real ServiceNow adapter); later issues add ECR and Kubernetes.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { PlatformConfig } from '../../shared/config';
import type { PlatformStore } from '../../shared/store';
import type { DeployPorts } from '../deploy';
import type { LandingZonePorts } from '../landing-zone';
import { createStoreProjectConfiguration } from './config-store';
import { createLocalGitSourceRepositories } from './git-source';
import { createLocalImageRegistry } from './local-registry';
import { createLocalCredentialIssuer, createLocalSecretStore } from './local-secrets';
import { createOutboxNotifier } from './outbox';
import { createBuiltinProjectTemplates } from './templates';
import { createGitOpsClusterTarget } from './gitops';
import { createBuiltinChartRenderer } from './helm';
import { createServiceNowChangeManagement } from './servicenow';
import { createTemporalDeploymentRuns } from './temporal-runs';
import { createTrivyReportScanner } from './trivy/report-scanner';

export function createDeployPorts(config: PlatformConfig): DeployPorts {
  return {
    scanner: createTrivyReportScanner(),
    renderer: createBuiltinChartRenderer(),
    changes: createServiceNowChangeManagement({
      baseUrl: config.servicenow.url,
      user: config.servicenow.user,
      password: config.servicenow.password,
      timeoutMs: config.servicenow.timeoutMs,
    }),
    cluster: createGitOpsClusterTarget({ repoDir: config.gitops.repoDir, branch: config.gitops.branch }),
  };
}

export interface LandingZonePortOptions {
  /** For the deployment runs still going (a decommission waits for none). */
  client: Client;
  log?: (line: string) => void;
}

export function createLandingZonePorts(config: PlatformConfig, store: PlatformStore, deploy: DeployPorts, { client, log }: LandingZonePortOptions): LandingZonePorts {
  return {
    changes: deploy.changes,
    cluster: deploy.cluster,
    registry: createLocalImageRegistry({ dataDir: config.dataDir }),
    sources: createLocalGitSourceRepositories({ rootDir: join(config.dataDir, 'repositories') }),
    configuration: createStoreProjectConfiguration(store.configuration),
    credentials: createLocalCredentialIssuer({ tokens: store.tokens, secrets: createLocalSecretStore(config.dataDir) }),
    notifier: createOutboxNotifier({ outboxFile: join(config.dataDir, 'outbox', 'notifications.jsonl'), ...(log ? { log } : {}) }),
    templates: createBuiltinProjectTemplates(),
    directory: store.landingZones,
    runs: createTemporalDeploymentRuns(client),
  };
}
