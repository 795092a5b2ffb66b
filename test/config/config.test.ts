import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, hashToken, loadConfig } from '../../shared/config';
import { parseDuration } from '../../shared/durations';
import { projectRoot } from '../../scripts/lib/tools';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platform-config-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const base = (dataDir: string) => ({ PLATFORM_DATA_DIR: dataDir, PLATFORM_ENVIRONMENTS_FILE: join(projectRoot, 'config/environments.yaml') });

describe('loadConfig', () => {
  it('when nothing is configured outside production, then development secrets are generated once and reused', () => {
    const dir = tempDir();
    const first = loadConfig(base(dir), 'api');
    const second = loadConfig(base(dir), 'worker');
    assert.ok(first.devCiToken && first.devCiToken.length >= 32);
    assert.equal(second.devCiToken, first.devCiToken);
    assert.equal(second.servicenow.webhookSecret, first.servicenow.webhookSecret);
    assert.equal(first.ciTokens.get(hashToken(first.devCiToken!))?.projects[0], '*');
    assert.equal(statSync(join(dir, 'dev-secrets.json')).mode & 0o777, 0o600);
    assert.deepEqual(Object.keys(first.environments), ['dev', 'staging', 'prod']);
    assert.equal(first.environments.prod?.approval.deadlineMs, 72 * 3_600_000);
    assert.deepEqual(first.environments.prod?.scan.blockSeverities, ['CRITICAL', 'HIGH']);
  });

  it('when NODE_ENV=production and secrets are missing, then it refuses naming each one and writes no dev secrets', () => {
    const dir = tempDir();
    assert.throws(
      () => loadConfig({ ...base(dir), NODE_ENV: 'production' }, 'api'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /PLATFORM_CI_TOKENS is required/);
        assert.match(error.message, /SERVICENOW_WEBHOOK_SECRET is required/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ ...base(dir), NODE_ENV: 'production' }, 'worker'), /SERVICENOW_PASSWORD is required/);
    assert.throws(() => readFileSync(join(dir, 'dev-secrets.json')), /ENOENT/);
  });

  it('when production secrets are weak defaults, then it refuses', () => {
    const env = { ...base(tempDir()), NODE_ENV: 'production', PLATFORM_CI_TOKENS: JSON.stringify({ 'a-token-of-enough-length': { subject: 'ci', projects: ['p'] } }), SERVICENOW_WEBHOOK_SECRET: 'changeme' };
    assert.throws(() => loadConfig(env, 'api'), /SERVICENOW_WEBHOOK_SECRET is too weak/);
  });

  it('when CI tokens are malformed, then the error says where without echoing the token', () => {
    const env = { ...base(tempDir()), PLATFORM_CI_TOKENS: JSON.stringify({ 'super-secret-token-value': { subject: 'ci' } }) };
    assert.throws(
      () => loadConfig(env, 'api'),
      (error: unknown) => {
        assert.match(String(error), /PLATFORM_CI_TOKENS/);
        assert.doesNotMatch(String(error), /super-secret-token-value/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ ...base(tempDir()), PLATFORM_CI_TOKENS: '{nope' }, 'api'), /not valid JSON/);
  });

  it('when the environment policy file is invalid, then the error names the file and the field', () => {
    const dir = tempDir();
    const file = join(dir, 'envs.yaml');
    writeFileSync(file, 'environments:\n  prod:\n    cluster: local\n    approval: { required: true, deadline: soon }\n    scan: { required: true, blockSeverities: [SEVERE] }\n');
    assert.throws(() => loadConfig({ ...base(dir), PLATFORM_ENVIRONMENTS_FILE: file }, 'api'), (error: unknown) => {
      assert.match(String(error), /envs\.yaml/);
      assert.match(String(error), /environments\.prod\.approval\.deadline/);
      assert.match(String(error), /environments\.prod\.scan\.blockSeverities\.0/);
      return true;
    });
  });

  it('when the shipped policy is loaded, then prod needs two cab-prod approvers and a day-fresh scan; bad approver rules are named', () => {
    const config = loadConfig(base(tempDir()), 'api');
    assert.deepEqual(config.environments.prod?.approval.approvers, { groups: ['cab-prod'], quorum: 2 });
    assert.equal(config.environments.prod?.scan.maxAgeMs, 24 * 3_600_000);
    assert.deepEqual(config.environments.staging?.approval.approvers, { groups: [], quorum: 1 });
    assert.equal(config.environments.staging?.approval.windowMs, undefined);

    const dir = tempDir();
    const file = join(dir, 'envs.yaml');
    writeFileSync(file, 'environments:\n  prod:\n    cluster: local\n    approval: { required: true, approvers: { groups: [cab], quorum: 0 }, window: 0s }\n    scan: { required: true, blockSeverities: [], maxAge: forever }\n');
    assert.throws(() => loadConfig({ ...base(dir), PLATFORM_ENVIRONMENTS_FILE: file }, 'api'), (error: unknown) => {
      assert.match(String(error), /environments\.prod\.approval\.approvers\.quorum/);
      assert.match(String(error), /environments\.prod\.approval\.window: must be at least 1s/);
      assert.match(String(error), /environments\.prod\.scan\.maxAge/);
      return true;
    });
  });

  it('when a port is not a number, then it says which variable', () => {
    assert.throws(() => loadConfig({ ...base(tempDir()), API_PORT: 'eighty' }, 'api'), /API_PORT/);
  });

  it('when nothing chooses the adapters, then the embedded defaults serve every port', () => {
    const config = loadConfig(base(tempDir()), 'worker');
    assert.deepEqual(config.providers, { clusterTarget: 'gitops', scanner: 'report', registry: 'local' });
    assert.equal(config.environments.dev?.rollout?.timeoutMs, 5 * 60_000);
  });

  it('when CLUSTER_TARGET=kubernetes and an environment has no cluster connection, then the worker refuses to start naming it', () => {
    const dir = tempDir();
    const file = join(dir, 'environments.yaml');
    writeFileSync(
      file,
      `environments:
  dev: { cluster: dev-eu, approval: { required: false }, scan: { required: false, blockSeverities: [] }, rollout: { timeout: 2m } }
  prod: { cluster: prod-eu, approval: { required: true }, scan: { required: true, blockSeverities: [HIGH] } }
clusters:
  dev-eu:
    kubeconfig: { file: ${join(dir, 'missing.kubeconfig')}, context: dev }
`,
    );
    const env = { ...base(dir), PLATFORM_ENVIRONMENTS_FILE: file, CLUSTER_TARGET: 'kubernetes' };
    assert.throws(
      () => loadConfig(env, 'worker'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /environment prod runs on cluster prod-eu, which has no entry under clusters:/);
        assert.match(error.message, /clusters\.dev-eu: .*missing\.kubeconfig does not exist/);
        return true;
      },
    );
    // The API never connects to clusters: it starts, and the rollout timeout is read for the runs it starts.
    assert.equal(loadConfig(env, 'api').environments.dev?.rollout?.timeoutMs, 120_000);

    writeFileSync(join(dir, 'missing.kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    writeFileSync(file, `${readFileSync(file, 'utf8')}  prod-eu:\n    eks: { name: prod, region: eu-west-1 }\n`);
    const config = loadConfig(env, 'worker');
    assert.deepEqual(config.kubernetes.clusters['prod-eu'], { eks: { name: 'prod', region: 'eu-west-1' } });
    assert.equal(config.kubernetes.stateNamespace, 'deploy-platform-system');
  });

  it('when SCANNER=ecr or REGISTRY=ecr without AWS_REGION, then the worker refuses to start saying so', () => {
    for (const setting of [{ SCANNER: 'ecr' }, { REGISTRY: 'ecr' }]) {
      assert.throws(() => loadConfig({ ...base(tempDir()), ...setting }, 'worker'), /AWS_REGION is required when (SCANNER|REGISTRY)=ecr/);
    }
    assert.throws(() => loadConfig({ ...base(tempDir()), SCANNER: 'trivy' }, 'worker'), /SCANNER/);
    const config = loadConfig({ ...base(tempDir()), SCANNER: 'ecr', REGISTRY: 'ecr', AWS_REGION: 'eu-west-1' }, 'worker');
    assert.deepEqual(config.aws, { region: 'eu-west-1' });
  });

  it('when the approval poll interval is set, then it is a duration of at least a second, or off', () => {
    const dir = tempDir();
    assert.equal(loadConfig(base(dir), 'worker').servicenow.pollIntervalMs, 60_000);
    assert.deepEqual(loadConfig(base(dir), 'worker').worker, { maxCachedWorkflows: 250, maxConcurrentActivities: 100, maxConcurrentWorkflowTasks: 20, mallocTrimIntervalMs: 30_000 });
    assert.equal(loadConfig({ ...base(dir), WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '80' }, 'worker').worker.maxConcurrentWorkflowTasks, 80);
    assert.throws(() => loadConfig({ ...base(dir), WORKER_MAX_CACHED_WORKFLOWS: '5' }, 'worker'), /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS \(20\) may not exceed WORKER_MAX_CACHED_WORKFLOWS \(5\)/);
    assert.throws(() => loadConfig({ ...base(dir), WORKER_MAX_CACHED_WORKFLOWS: 'lots' }, 'worker'), /WORKER_MAX_CACHED_WORKFLOWS/);
    assert.equal(loadConfig({ ...base(dir), SERVICENOW_POLL_INTERVAL: '90s' }, 'worker').servicenow.pollIntervalMs, 90_000);
    assert.equal(loadConfig({ ...base(dir), SERVICENOW_POLL_INTERVAL: 'off' }, 'worker').servicenow.pollIntervalMs, 0);
    assert.throws(() => loadConfig({ ...base(dir), SERVICENOW_POLL_INTERVAL: '500ms' }, 'worker'), /SERVICENOW_POLL_INTERVAL.*at least 1s/);
    assert.throws(() => loadConfig({ ...base(dir), SERVICENOW_POLL_INTERVAL: 'often' }, 'worker'), /SERVICENOW_POLL_INTERVAL.*not a duration/);
  });

  it('when the malloc trim interval is set, then it is a duration of at least a second, or off (default 30s)', () => {
    const dir = tempDir();
    assert.equal(loadConfig(base(dir), 'worker').worker.mallocTrimIntervalMs, 30_000);
    assert.equal(loadConfig({ ...base(dir), WORKER_MALLOC_TRIM_INTERVAL: '5m' }, 'worker').worker.mallocTrimIntervalMs, 300_000);
    assert.equal(loadConfig({ ...base(dir), WORKER_MALLOC_TRIM_INTERVAL: 'off' }, 'worker').worker.mallocTrimIntervalMs, 0);
    assert.throws(() => loadConfig({ ...base(dir), WORKER_MALLOC_TRIM_INTERVAL: '100ms' }, 'worker'), /WORKER_MALLOC_TRIM_INTERVAL.*at least 1s/);
    assert.throws(() => loadConfig({ ...base(dir), WORKER_MALLOC_TRIM_INTERVAL: 'sometimes' }, 'worker'), /WORKER_MALLOC_TRIM_INTERVAL.*not a duration/);
  });

  it('when the workflow task timeout is set, then it is a duration between 1s and 120s (default 5s)', () => {
    const dir = tempDir();
    assert.equal(loadConfig(base(dir), 'api').temporal.workflowTaskTimeoutMs, 5_000);
    assert.equal(loadConfig({ ...base(dir), TEMPORAL_WORKFLOW_TASK_TIMEOUT: '10s' }, 'worker').temporal.workflowTaskTimeoutMs, 10_000);
    assert.throws(() => loadConfig({ ...base(dir), TEMPORAL_WORKFLOW_TASK_TIMEOUT: '500ms' }, 'api'), /TEMPORAL_WORKFLOW_TASK_TIMEOUT.*between 1s and 120s/);
    assert.throws(() => loadConfig({ ...base(dir), TEMPORAL_WORKFLOW_TASK_TIMEOUT: '5m' }, 'api'), /TEMPORAL_WORKFLOW_TASK_TIMEOUT.*between 1s and 120s/);
    assert.throws(() => loadConfig({ ...base(dir), TEMPORAL_WORKFLOW_TASK_TIMEOUT: 'soon' }, 'api'), /TEMPORAL_WORKFLOW_TASK_TIMEOUT.*not a duration/);
  });
});

describe('parseDuration', () => {
  it('when given units and sums, then it returns milliseconds', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('3d'), 259_200_000);
  });
  it('when given nonsense, then it explains the format', () => {
    assert.throws(() => parseDuration('24 hours'), /use e\.g\. 90s/);
    assert.throws(() => parseDuration(''), /not a duration/);
  });
});
