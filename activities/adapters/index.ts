/**
 * Chooses the adapter behind each port from configuration: CLUSTER_TARGET=gitops|kubernetes,
 * SCANNER=report|ecr, REGISTRY=local|ecr. The embedded defaults need no cloud; the production
 * adapters are loaded only when chosen.
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
import { createEcrClient, createEcrImageRegistry, createEcrImageScanner } from './ecr';
import { createKubernetesClusterTarget } from './kubernetes';
import { heartbeatIfInActivity } from '../heartbeat';
import type { ClusterTarget } from '../ports/cluster-target';
import type { ImageRegistry } from '../ports/image-registry';
import type { ImageScanner } from '../ports/image-scanner';

function ecrClient(config: PlatformConfig) {
  if (!config.aws.region) throw new Error('AWS_REGION is required for the ECR adapters');
  return createEcrClient({ region: config.aws.region, ...(config.aws.ecrEndpoint ? { endpoint: config.aws.ecrEndpoint } : {}) });
}

function createScanner(config: PlatformConfig): ImageScanner {
  if (config.providers.scanner === 'report') return createTrivyReportScanner();
  // The wait for ECR's scan reports progress as the activity's heartbeat details.
  return createEcrImageScanner({ client: ecrClient(config), onProgress: (progress) => heartbeatIfInActivity(progress) });
}

function createClusterTarget(config: PlatformConfig): ClusterTarget {
  if (config.providers.clusterTarget === 'gitops') return createGitOpsClusterTarget({ repoDir: config.gitops.repoDir, branch: config.gitops.branch });
  return createKubernetesClusterTarget({ clusters: config.kubernetes.clusters, stateNamespace: config.kubernetes.stateNamespace });
}

function createRegistry(config: PlatformConfig): ImageRegistry {
  if (config.providers.registry === 'local') return createLocalImageRegistry({ dataDir: config.dataDir });
  return createEcrImageRegistry({ client: ecrClient(config) });
}

export function createDeployPorts(config: PlatformConfig): DeployPorts {
  return {
    scanner: createScanner(config),
    renderer: createBuiltinChartRenderer(),
    changes: createServiceNowChangeManagement({
      baseUrl: config.servicenow.url,
      user: config.servicenow.user,
      password: config.servicenow.password,
      timeoutMs: config.servicenow.timeoutMs,
    }),
    cluster: createClusterTarget(config),
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
    registry: createRegistry(config),
    sources: createLocalGitSourceRepositories({ rootDir: join(config.dataDir, 'repositories') }),
    configuration: createStoreProjectConfiguration(store.configuration),
    credentials: createLocalCredentialIssuer({ tokens: store.tokens, secrets: createLocalSecretStore(config.dataDir) }),
    notifier: createOutboxNotifier({ outboxFile: join(config.dataDir, 'outbox', 'notifications.jsonl'), ...(log ? { log } : {}) }),
    templates: createBuiltinProjectTemplates(),
    directory: store.landingZones,
    runs: createTemporalDeploymentRuns(client),
  };
}
