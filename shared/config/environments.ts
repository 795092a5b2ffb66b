import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEVERITIES, type EnvironmentPolicy } from '../domain';
import { parseDuration } from '../durations';

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
  }),
  scan: z.strictObject({
    required: z.boolean(),
    blockSeverities: z.array(z.enum(SEVERITIES)),
  }),
  maxReplicas: z.number().int().min(1).max(500).default(10),
  landingZone: z
    .strictObject({
      /** A landing zone that includes this environment needs an approved change. */
      approvalRequired: z.boolean(),
    })
    .default({ approvalRequired: false }),
});

const fileSchema = z.strictObject({
  environments: z.record(
    z.string().regex(/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/, 'environment names are DNS labels of at most 20 characters'),
    environmentSchema,
  ),
});

export type EnvironmentPolicies = Readonly<Record<string, EnvironmentPolicy>>;

/** Reads and validates the environment policy file; throws naming the file and the bad field. */
export function loadEnvironmentPolicies(path: string): EnvironmentPolicies {
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
  const policies: Record<string, EnvironmentPolicy> = {};
  for (const [name, env] of Object.entries(parsed.data.environments)) {
    policies[name] = {
      name,
      cluster: env.cluster,
      approval: { required: env.approval.required, deadlineMs: env.approval.deadline },
      scan: { required: env.scan.required, blockSeverities: env.scan.blockSeverities },
      maxReplicas: env.maxReplicas,
      landingZone: { approvalRequired: env.landingZone.approvalRequired },
    };
  }
  if (Object.keys(policies).length === 0) throw new Error(`environment policy file ${path} defines no environment`);
  return policies;
}
