/**
 * Chooses the adapter behind each port from configuration. Today every port has one adapter
 * (the embedded defaults plus the real ServiceNow adapter); later issues add ECR and Kubernetes.
 */
import type { PlatformConfig } from '../../shared/config';
import type { DeployPorts } from '../deploy';
import { createGitOpsClusterTarget } from './gitops';
import { createBuiltinChartRenderer } from './helm';
import { createServiceNowChangeManagement } from './servicenow';
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
