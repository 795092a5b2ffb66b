/**
 * The one place configuration is read. `loadConfig(env)` is called once at process start and the
 * result passed down explicitly; nothing reads the environment at import time.
 *
 * Every variable is documented in the README's configuration table. Secrets are marked (secret).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEPLOY_TASK_QUEUE } from '../contracts/deploy';
import { parseDuration } from '../durations';
import { devSecretsPath, loadOrCreateDevPayloadKey, loadOrCreateDevSecrets } from './dev-secrets';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { loadClusterConnections, loadEnvironmentPolicies, type ClusterConnections, type EnvironmentPolicies } from './environments';
import { readCiIdentities, type CiIdentityTrust } from './oidc';
import { parseLimits, type ApiLimits } from './limits';

export type ProcessRole = 'api' | 'worker' | 'simulator';

/**
 * Roles beyond deploying: `platform-admin` (global configuration, landing zones),
 * `tenant-admin:<tenant>` (that tenant's configuration), `project-owner:<project>` (that project's).
 */
export type Role = 'platform-admin' | `tenant-admin:${string}` | `project-owner:${string}`;

export interface CiTokenGrant {
  subject: string;
  /** Projects the token may deploy; `*` means every project. */
  projects: string[];
  roles: Role[];
}

export interface PayloadKeys {
  current: Buffer;
  /** Keys rotated out: they still decrypt history written with them. */
  previous: Buffer[];
}

export interface PlatformConfig {
  production: boolean;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  temporal: {
    address: string;
    namespace: string;
    uiUrl: string;
    taskQueue: string;
    /** Workflow task timeout of the runs the platform starts: how long a task a dead worker had started holds its run. */
    workflowTaskTimeoutMs: number;
  };
  api: { host: string; port: number; publicBaseUrl: string; bodyLimitBytes: number };
  /** CI tokens by sha256 of the token, so a lookup never compares secrets character by character. */
  ciTokens: ReadonlyMap<string, CiTokenGrant>;
  /** Encrypt what goes into Temporal (api and worker; the simulator has none). */
  payloadKeys: PayloadKeys | undefined;
  servicenow: {
    url: string;
    user: string;
    password: string;
    webhookSecret: string;
    /** Still accepted while ServiceNow moves to the new secret (rotation); empty when none. */
    previousWebhookSecret: string;
    timeoutMs: number;
    pollIntervalMs: number;
  };
  simulator: { host: string; port: number; webhookUrl: string; dataFile: string };
  /**
   * Bounds on one worker process. Runs beyond the cache are evicted (least recently used) and
   * replayed from their history when their next task comes: parked runs then cost no memory.
   */
  worker: {
    maxCachedWorkflows: number;
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    /**
     * How often the worker hands the C heap's free pages back to the kernel (glibc malloc_trim,
     * WORKER_MALLOC_TRIM_INTERVAL); 0 = never. See workers/malloc-trim.ts.
     */
    mallocTrimIntervalMs: number;
    /** Where built workflow bundles are kept (WORKFLOW_BUNDLE_CACHE_DIR); the package's node_modules/.cache otherwise. */
    bundleCacheDir?: string;
  };
  gitops: { repoDir: string; branch: string };
  /** Which adapter serves each port: the embedded defaults, or the production ones. */
  providers: { clusterTarget: 'gitops' | 'kubernetes'; scanner: 'report' | 'ecr'; registry: 'local' | 'ecr' };
  /** CLUSTER_TARGET=kubernetes: how to reach each cluster, and where apply records live on it. */
  kubernetes: { clusters: ClusterConnections; stateNamespace: string };
  /** SCANNER=ecr / REGISTRY=ecr: credentials come from the SDK's default chain, never from here. */
  aws: { region?: string; ecrEndpoint?: string };
  /** The platform database (configuration hierarchy): SQLite, shared by API and worker. */
  databaseFile: string;
  environmentsFile: string;
  environments: EnvironmentPolicies;
  /** Set when development secrets were generated or read from the data directory. */
  devSecretsFile?: string;
  /** The development CI token, only outside production, so `npm start` can print it. */
  devCiToken?: string;
  /** CI identity by OIDC (PLATFORM_CI_IDENTITIES_FILE, api only): trusted issuers and claim rules. */
  ciIdentities?: CiIdentityTrust;
  /** Rate limits of the API (shared/config/limits.ts). */
  limits: ApiLimits;
}

const port = z.coerce.number().int().min(0).max(65_535);
/** A duration of at least 1s (`30s`, `5m`), or `off` (0). */
function intervalOrOff(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      if (text.trim() === 'off') return 0;
      try {
        const ms = parseDuration(text);
        if (ms >= 1_000) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be at least 1s, or off' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
      return z.NEVER;
    });
}
const ciTokensSchema = z.record(
  z.string().min(16, 'tokens must be at least 16 characters'),
  z.object({
    subject: z.string().min(1),
    projects: z.array(z.string().min(1)).default([]),
    roles: z
      .array(
        z.custom<Role>(
          (value) => typeof value === 'string' && /^(platform-admin|tenant-admin:[a-z][-a-z0-9]*|project-owner:[a-z][-a-z0-9]*)$/.test(value),
          'roles are platform-admin, tenant-admin:<tenant> or project-owner:<project>',
        ),
      )
      .default([]),
  })
  .refine((grant) => grant.projects.length + grant.roles.length > 0, 'a token needs at least one project or role'),
);

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  PLATFORM_DATA_DIR: z.string().default('.data'),
  PLATFORM_ENVIRONMENTS_FILE: z.string().default('config/environments.yaml'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEPLOY_TASK_QUEUE),
  TEMPORAL_UI_URL: z.string().url().optional(),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_WORKFLOW_TASK_TIMEOUT: z
    .string()
    .default('5s')
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms >= 1_000 && ms <= 120_000) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be between 1s and 120s (Temporal’s own limit)' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
      return z.NEVER;
    }),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(8080),
  PUBLIC_BASE_URL: z.string().url().optional(),
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  PLATFORM_CI_TOKENS: z.string().optional(),
  PLATFORM_CI_IDENTITIES_FILE: z.string().min(1).optional(),
  SERVICENOW_URL: z.string().url().optional(),
  SERVICENOW_USER: z.string().optional(),
  SERVICENOW_PASSWORD: z.string().optional(),
  SERVICENOW_WEBHOOK_SECRET: z.string().optional(),
  SERVICENOW_WEBHOOK_PREVIOUS_SECRET: z.string().optional(),
  SERVICENOW_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(250),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  // 20, not the SDK's 40: the worker runs its workflow tasks on one thread, and on a burst of 500 the
  // tasks queued inside it cost more than they overlap; 10 was faster still but left status queries
  // of just-ended runs unanswered after a restart (docs/performance.md, workflow task slots).
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(20),
  WORKFLOW_BUNDLE_CACHE_DIR: z.string().min(1).optional(),
  SERVICENOW_POLL_INTERVAL: intervalOrOff('60s'),
  WORKER_MALLOC_TRIM_INTERVAL: intervalOrOff('30s'),
  SIMULATOR_HOST: z.string().default('127.0.0.1'),
  SIMULATOR_PORT: port.default(8090),
  SIMULATOR_WEBHOOK_URL: z.string().url().optional(),
  GITOPS_REPO_DIR: z.string().optional(),
  GITOPS_BRANCH: z.string().default('main'),
  PLATFORM_DATABASE_FILE: z.string().optional(),
  PLATFORM_PAYLOAD_KEY: z.string().optional(),
  PLATFORM_PAYLOAD_PREVIOUS_KEYS: z.string().optional(),
  CLUSTER_TARGET: z.enum(['gitops', 'kubernetes']).default('gitops'),
  SCANNER: z.enum(['report', 'ecr']).default('report'),
  REGISTRY: z.enum(['local', 'ecr']).default('local'),
  KUBERNETES_STATE_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name').default('deploy-platform-system'),
  AWS_REGION: z.string().min(1).optional(),
  ECR_ENDPOINT: z.string().url().optional(),
});

/** Values that must never reach production however they were configured. */
const WEAK_SECRETS = new Set(['changeme', 'secret', 'password', 'admin', 'test', 'dev']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseCiTokens(json: string, problems: string[]): Map<string, CiTokenGrant> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    problems.push('PLATFORM_CI_TOKENS is not valid JSON (expected {"<token>": {"subject": "...", "projects": ["..."]}})');
    return new Map();
  }
  const parsed = ciTokensSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Never echo the token itself: report the position only.
      problems.push(`PLATFORM_CI_TOKENS entry ${issue.path.length > 1 ? `#${issue.path.slice(1).join('.')}` : ''}: ${issue.message}`);
    }
    return new Map();
  }
  return new Map(Object.entries(parsed.data).map(([token, grant]) => [hashToken(token), grant]));
}

/**
 * The payload encryption keys: the current one (given, or in development generated once per data
 * directory) and earlier ones that still decrypt old history. Messages never repeat a key.
 */
function resolvePayloadKeys(current: string | undefined, previous: string | undefined, devDataDir: string | undefined, problems: string[]): PayloadKeys | undefined {
  const decode = (name: string, value: string): Buffer | undefined => {
    const key = Buffer.from(value.trim(), 'base64');
    if (key.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value.trim())) return key;
    problems.push(`${name} must be 32 random bytes in base64 (e.g. openssl rand -base64 32)`);
    return undefined;
  };
  const key = current ? decode('PLATFORM_PAYLOAD_KEY', current) : devDataDir ? loadOrCreateDevPayloadKey(devDataDir) : undefined;
  const older = (previous ?? '')
    .split(',')
    .filter((value) => value.trim())
    .map((value, index) => decode(`PLATFORM_PAYLOAD_PREVIOUS_KEYS[${index}]`, value));
  if (!key || older.some((k) => k === undefined)) return undefined;
  return { current: key, previous: older.filter((k): k is Buffer => k !== undefined) };
}

/**
 * Builds the configuration for one process. In production (NODE_ENV=production) every secret the
 * role needs must be given and strong; elsewhere missing secrets fall back to development values
 * generated once under the data directory.
 */
export function loadConfig(env: NodeJS.ProcessEnv, role: ProcessRole, cwd = process.cwd()): PlatformConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';
  const dataDir = resolve(cwd, e.PLATFORM_DATA_DIR);

  const required: Record<ProcessRole, (keyof typeof e)[]> = {
    api: ['PLATFORM_CI_TOKENS', 'SERVICENOW_WEBHOOK_SECRET', 'PLATFORM_PAYLOAD_KEY'],
    worker: ['SERVICENOW_URL', 'SERVICENOW_USER', 'SERVICENOW_PASSWORD', 'PLATFORM_PAYLOAD_KEY'],
    simulator: ['SERVICENOW_USER', 'SERVICENOW_PASSWORD', 'SERVICENOW_WEBHOOK_SECRET'],
  };
  if (production) {
    for (const key of required[role]) {
      // CI pipelines may authenticate by OIDC alone.
      if (!e[key] && !(key === 'PLATFORM_CI_TOKENS' && e.PLATFORM_CI_IDENTITIES_FILE)) problems.push(`${key} is required when NODE_ENV=production`);
    }
    for (const key of ['SERVICENOW_PASSWORD', 'SERVICENOW_WEBHOOK_SECRET', 'SERVICENOW_WEBHOOK_PREVIOUS_SECRET'] as const) {
      const value = e[key];
      if (value && (value.length < 16 || WEAK_SECRETS.has(value.toLowerCase()))) {
        problems.push(`${key} is too weak for production (at least 16 characters, not a default value)`);
      }
    }
  }

  const dev = production ? undefined : loadOrCreateDevSecrets(dataDir);
  const ciTokens = e.PLATFORM_CI_TOKENS
    ? parseCiTokens(e.PLATFORM_CI_TOKENS, problems)
    : new Map(dev ? [[hashToken(dev.ciToken), { subject: 'dev-ci', projects: ['*'], roles: ['platform-admin'] as Role[] }]] : []);

  const ciIdentities = role === 'api' && e.PLATFORM_CI_IDENTITIES_FILE ? readCiIdentities(resolve(cwd, e.PLATFORM_CI_IDENTITIES_FILE), { production }, problems) : undefined;

  const payloadKeys = role === 'simulator' ? undefined : resolvePayloadKeys(e.PLATFORM_PAYLOAD_KEY, e.PLATFORM_PAYLOAD_PREVIOUS_KEYS, production ? undefined : dataDir, problems);

  let environments: EnvironmentPolicies = {};
  const environmentsFile = resolve(cwd, e.PLATFORM_ENVIRONMENTS_FILE);
  try {
    environments = loadEnvironmentPolicies(environmentsFile);
  } catch (error) {
    problems.push((error as Error).message);
  }

  let clusters: ClusterConnections = {};
  if (role === 'worker' && e.CLUSTER_TARGET === 'kubernetes' && Object.keys(environments).length > 0) {
    try {
      clusters = resolveClusterFiles(loadClusterConnections(environmentsFile), cwd);
      problems.push(...clusterProblems(environments, clusters, environmentsFile));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (role === 'worker' && (e.SCANNER === 'ecr' || e.REGISTRY === 'ecr') && !e.AWS_REGION) {
    problems.push(`AWS_REGION is required when ${e.SCANNER === 'ecr' ? 'SCANNER=ecr' : 'REGISTRY=ecr'} (the region of the ECR registry)`);
  }

  if (role === 'worker' && e.WORKER_MAX_CACHED_WORKFLOWS > 0 && e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > e.WORKER_MAX_CACHED_WORKFLOWS) {
    problems.push(
      `WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS}) may not exceed WORKER_MAX_CACHED_WORKFLOWS (${e.WORKER_MAX_CACHED_WORKFLOWS}) unless the cache is off (0): a task runs in a cached run`,
    );
  }
  // Only the API enforces them, so only its start is refused over a bad value.
  const limits = parseLimits(env, role === 'api' ? problems : []);
  if (problems.length > 0) throw new ConfigError(problems);

  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.API_PORT}`).replace(/\/$/, '');
  return {
    production,
    dataDir,
    logLevel: e.LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      workflowTaskTimeoutMs: e.TEMPORAL_WORKFLOW_TASK_TIMEOUT,
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://localhost:${e.TEMPORAL_UI_PORT}`).replace(/\/$/, ''),
    },
    api: { host: e.API_HOST, port: e.API_PORT, publicBaseUrl, bodyLimitBytes: e.API_BODY_LIMIT_BYTES },
    ciTokens,
    payloadKeys,
    servicenow: {
      url: (e.SERVICENOW_URL ?? `http://127.0.0.1:${e.SIMULATOR_PORT}`).replace(/\/$/, ''),
      user: e.SERVICENOW_USER ?? 'platform.integration',
      password: e.SERVICENOW_PASSWORD ?? dev?.servicenowPassword ?? '',
      webhookSecret: e.SERVICENOW_WEBHOOK_SECRET ?? dev?.webhookSecret ?? '',
      previousWebhookSecret: e.SERVICENOW_WEBHOOK_PREVIOUS_SECRET ?? '',
      timeoutMs: e.SERVICENOW_TIMEOUT_MS,
      pollIntervalMs: e.SERVICENOW_POLL_INTERVAL,
    },
    worker: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      mallocTrimIntervalMs: e.WORKER_MALLOC_TRIM_INTERVAL,
      ...(e.WORKFLOW_BUNDLE_CACHE_DIR ? { bundleCacheDir: resolve(cwd, e.WORKFLOW_BUNDLE_CACHE_DIR) } : {}),
    },
    simulator: {
      host: e.SIMULATOR_HOST,
      port: e.SIMULATOR_PORT,
      webhookUrl: e.SIMULATOR_WEBHOOK_URL ?? `http://127.0.0.1:${e.API_PORT}/v1/webhooks/servicenow`,
      dataFile: resolve(dataDir, 'servicenow-simulator.json'),
    },
    gitops: { repoDir: resolve(cwd, e.GITOPS_REPO_DIR ?? resolve(dataDir, 'gitops')), branch: e.GITOPS_BRANCH },
    providers: { clusterTarget: e.CLUSTER_TARGET, scanner: e.SCANNER, registry: e.REGISTRY },
    kubernetes: { clusters, stateNamespace: e.KUBERNETES_STATE_NAMESPACE },
    aws: { ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}), ...(e.ECR_ENDPOINT ? { ecrEndpoint: e.ECR_ENDPOINT } : {}) },
    databaseFile: resolve(cwd, e.PLATFORM_DATABASE_FILE ?? resolve(dataDir, 'platform.sqlite')),
    limits,
    environmentsFile,
    environments,
    devSecretsFile: dev ? devSecretsPath(dataDir) : undefined,
    devCiToken: e.PLATFORM_CI_TOKENS ? undefined : dev?.ciToken,
    ...(ciIdentities ? { ciIdentities } : {}),
  };
}

function expandHome(path: string, cwd: string): string {
  return path === '~' || path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : resolve(cwd, path);
}

/** File paths in the clusters section are relative to the working directory; `~/` is the home directory. */
function resolveClusterFiles(clusters: ClusterConnections, cwd: string): ClusterConnections {
  return Object.fromEntries(
    Object.entries(clusters).map(([name, spec]) => {
      if ('kubeconfig' in spec) return [name, { kubeconfig: { ...spec.kubeconfig, ...(spec.kubeconfig.file ? { file: expandHome(spec.kubeconfig.file, cwd) } : {}) } }];
      return [name, { eks: { ...spec.eks, ...(spec.eks.caFile ? { caFile: expandHome(spec.eks.caFile, cwd) } : {}) } }];
    }),
  );
}

/** Every environment's cluster needs a connection, and the files named must exist: said at start, not at the first deploy. */
function clusterProblems(environments: EnvironmentPolicies, clusters: ClusterConnections, file: string): string[] {
  const problems: string[] = [];
  for (const policy of Object.values(environments)) {
    if (!clusters[policy.cluster]) {
      problems.push(`CLUSTER_TARGET=kubernetes: environment ${policy.name} runs on cluster ${policy.cluster}, which has no entry under clusters: in ${file}`);
    }
  }
  for (const [name, spec] of Object.entries(clusters)) {
    const path = 'kubeconfig' in spec ? spec.kubeconfig.file : spec.eks.caFile;
    if (path && !existsSync(path)) problems.push(`clusters.${name}: ${path} does not exist`);
  }
  return problems;
}
