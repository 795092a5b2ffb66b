import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEVERITIES, type EnvironmentPolicy } from '../domain';
import { parseDuration } from '../durations';

/** Long enough for a real rolling update of a few replicas, short of the verify step's 10 minutes. */
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 5 * 60_000;

const durationSchema = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const environmentSchema = z.strictObject({
  cluster: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'),
  approval: z.strictObject({
    required: z.boolean(),
    deadline: durationSchema.default(24 * 3_600_000),
    /** Who may approve: ServiceNow approval groups and how many distinct approvers (never the requester). */
    approvers: z
      .strictObject({
        groups: z.array(z.string().min(1).max(100)).default([]),
        quorum: z.number().int().min(1).max(10).default(1),
      })
      .default({ groups: [], quorum: 1 }),
    /** The planned change window the platform proposes when it opens a change (start: at opening). */
    window: durationSchema.refine((ms) => ms >= 1_000, 'must be at least 1s').optional(),
  }),
  scan: z.strictObject({
    required: z.boolean(),
    blockSeverities: z.array(z.enum(SEVERITIES)),
    /** A scan older than this when approval arrives is repeated before deploying. */
    maxAge: durationSchema.refine((ms) => ms >= 1_000, 'must be at least 1s').optional(),
  }),
  maxReplicas: z.number().int().min(1).max(500).default(10),
  landingZone: z
    .strictObject({
      /** A landing zone that includes this environment needs an approved change. */
      approvalRequired: z.boolean(),
    })
    .default({ approvalRequired: false }),
  rollout: z
    .strictObject({
      // The verify activity may run 10 minutes (verifyOp): a longer rollout wait would be cut short.
      timeout: durationSchema.refine((ms) => ms >= 1_000 && ms <= 9 * 60_000, 'must be between 1s and 9m'),
    })
    .default({ timeout: DEFAULT_ROLLOUT_TIMEOUT_MS }),
});

const clusterNameSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label');

/** How the worker reaches a cluster when CLUSTER_TARGET=kubernetes (ignored by the GitOps target). */
const clusterSchema = z.union([
  z.strictObject({
    kubeconfig: z.strictObject({
      /** Default: $KUBECONFIG or ~/.kube/config. */
      file: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
    }),
  }),
  z.strictObject({
    eks: z.strictObject({
      name: z.string().min(1),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
      /** EKS API endpoint override (VPC endpoint, emulator). */
      endpoint: z.string().url().optional(),
      /** STS endpoint the token is presigned for (default: the region's). */
      stsEndpoint: z.string().url().optional(),
      /** Skip DescribeCluster: this API server URL and CA file (private endpoints, tests). */
      server: z.string().url().optional(),
      caFile: z.string().min(1).optional(),
    }),
  }),
]);

const fileSchema = z.strictObject({
  environments: z.record(
    z.string().regex(/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/, 'environment names are DNS labels of at most 20 characters'),
    environmentSchema,
  ),
  clusters: z.record(clusterNameSchema, clusterSchema).default({}),
});

export type EnvironmentPolicies = Readonly<Record<string, EnvironmentPolicy>>;
export type ClusterConnections = Readonly<Record<string, z.infer<typeof clusterSchema>>>;

function readPolicyFile(path: string): z.infer<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read environment policy file ${path}: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid environment policy file ${path}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The `clusters:` section: how to reach each cluster the environments name. */
export function loadClusterConnections(path: string): ClusterConnections {
  return readPolicyFile(path).clusters;
}

/** Reads and validates the environment policy file; throws naming the file and the bad field. */
export function loadEnvironmentPolicies(path: string): EnvironmentPolicies {
  const policies: Record<string, EnvironmentPolicy> = {};
  for (const [name, env] of Object.entries(readPolicyFile(path).environments)) {
    policies[name] = {
      name,
      cluster: env.cluster,
      approval: {
        required: env.approval.required,
        deadlineMs: env.approval.deadline,
        approvers: env.approval.approvers,
        ...(env.approval.window !== undefined ? { windowMs: env.approval.window } : {}),
      },
      scan: {
        required: env.scan.required,
        blockSeverities: env.scan.blockSeverities,
        ...(env.scan.maxAge !== undefined ? { maxAgeMs: env.scan.maxAge } : {}),
      },
      maxReplicas: env.maxReplicas,
      landingZone: { approvalRequired: env.landingZone.approvalRequired },
      rollout: { timeoutMs: env.rollout.timeout },
    };
  }
  if (Object.keys(policies).length === 0) throw new Error(`environment policy file ${path} defines no environment`);
  return policies;
}
