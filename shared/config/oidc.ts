/**
 * CI identity by OIDC: which issuers' ID tokens the API accepts as bearer tokens (GitHub Actions,
 * GitLab CI, a self-hosted GitLab or GitHub Enterprise), and the rules that map a token's claims
 * to projects and roles. Read from the YAML file PLATFORM_CI_IDENTITIES_FILE names; the API
 * refuses to start when it is wrong, naming each problem.
 *
 *   issuers:
 *     - name: github                      # subject prefix, and what rules refer to
 *       issuer: https://token.actions.githubusercontent.com   # default for github / gitlab
 *       audience: https://deploy.example.com                  # what pipelines request
 *       jwksUri: …                        # optional: from the issuer's discovery document
 *   rules:
 *     - issuer: github
 *       claims: { repository: acme/payments, ref: [refs/heads/main, refs/tags/v*] }
 *       projects: [payments]
 *       roles: []
 *
 * See docs/adr/0014-ci-identity-by-oidc.md for why it is shaped this way.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../durations';
import type { Role } from './index';

/** Issuer URLs of the hosted CI services, so `name: github` alone is enough. */
export const WELL_KNOWN_ISSUERS: Readonly<Record<string, string>> = {
  github: 'https://token.actions.githubusercontent.com',
  gitlab: 'https://gitlab.com',
};

/**
 * Claims that say whose pipeline it is. A rule must pin one of them, or it would match every
 * repository on github.com or gitlab.com (a rule of `ref: refs/heads/main` alone matches anyone's
 * main branch). `job_workflow_ref` is not one: a public reusable workflow may be called by anyone.
 */
export const OWNER_CLAIMS = {
  /** `owner/name` paths: a wildcard may only follow the first `/` (`acme/*`, never `acme*`). */
  path: ['repository', 'project_path', 'sub'],
  /** Owner or group names: exact, or a wildcard after a `/` (GitLab subgroups `acme/*`). */
  owner: ['repository_owner', 'namespace_path'],
  /** Numeric ids: exact only. */
  id: ['repository_id', 'repository_owner_id', 'project_id', 'namespace_id'],
} as const;

/** Claims jose checks itself; matching on them in a rule is a mistake. */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti']);

export interface OidcIssuerTrust {
  /** Prefix of the caller's subject (`github:acme/payments@refs/heads/main`); rules refer to it. */
  name: string;
  /** Exactly the tokens' `iss`. */
  issuer: string;
  /** A token's `aud` must include one of these. */
  audiences: string[];
  /** Where the signing keys are; when absent, `jwks_uri` of `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
}

export interface CiIdentityRule {
  /** The issuer's name. */
  issuer: string;
  /** Every claim listed must match one of its patterns (exact, or `*` for any run of characters). */
  claims: Readonly<Record<string, readonly string[]>>;
  /** Projects a matching token may deploy; `*` means every project. */
  projects: string[];
  roles: Role[];
}

export interface CiIdentityTrust {
  /** The file it was read from (for messages). */
  file: string;
  issuers: OidcIssuerTrust[];
  rules: CiIdentityRule[];
  /** Leeway for `exp`, `nbf` and `iat` against clocks that disagree a little. */
  clockToleranceSec: number;
  /** Per request to an issuer (discovery document, key set). */
  timeoutMs: number;
  /** Production: issuers and key sets only over https. */
  httpsOnly: boolean;
}

const durationSchema = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const roleSchema = z.custom<Role>(
  (value) => typeof value === 'string' && /^(platform-admin|tenant-admin:[a-z][-a-z0-9]*|project-owner:[a-z][-a-z0-9]*)$/.test(value),
  'roles are platform-admin, tenant-admin:<tenant> or project-owner:<project>',
);

const oneOrMany = z.union([z.string().min(1, 'must not be empty'), z.array(z.string().min(1, 'must not be empty')).min(1, 'must list at least one value')]);

const fileSchema = z.strictObject({
  clockTolerance: durationSchema.refine((ms) => ms <= 5 * 60_000, 'must be at most 5m').default(30_000),
  timeout: durationSchema.refine((ms) => ms >= 100 && ms <= 60_000, 'must be between 100ms and 60s').default(5_000),
  issuers: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9-]{0,29}$/, 'must be a short lowercase name such as github or gitlab').optional(),
        issuer: z.string().url('must be the issuer URL, exactly as in the tokens\' "iss" claim').optional(),
        audience: oneOrMany.optional(),
        jwksUri: z.string().url('must be the URL of the issuer\'s JSON Web Key Set').optional(),
      }),
    )
    .min(1, 'list at least one issuer'),
  rules: z
    .array(
      z.strictObject({
        issuer: z.string().min(1, 'name the issuer the rule is for'),
        claims: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'claim names are letters, digits and _'), oneOrMany),
        projects: z.array(z.string().min(1)).default([]),
        roles: z.array(roleSchema).default([]),
      }),
    )
    .default([]),
});

const asList = (value: string | string[]): string[] => (typeof value === 'string' ? [value] : value);

/** Whether a pattern for an owner claim pins an owner (see OWNER_CLAIMS). */
function pinsOwner(claim: string, pattern: string): boolean {
  const star = pattern.indexOf('*');
  const literal = star < 0 ? pattern : pattern.slice(0, star);
  if ((OWNER_CLAIMS.id as readonly string[]).includes(claim)) return star < 0;
  if ((OWNER_CLAIMS.owner as readonly string[]).includes(claim)) return star < 0 || literal.includes('/');
  if ((OWNER_CLAIMS.path as readonly string[]).includes(claim)) return literal.includes('/') && !literal.startsWith('/');
  return false;
}

function checkIssuerUrl(url: string, what: string, httpsOnly: boolean, problems: string[]): void {
  const protocol = new URL(url).protocol;
  if (protocol !== 'https:' && (httpsOnly || protocol !== 'http:')) {
    problems.push(`${what} must be an https URL${httpsOnly ? ' when NODE_ENV=production' : ''} (got ${url})`);
  }
}

/**
 * Parses the file's text. Every problem is pushed, prefixed with `where` (the variable and file),
 * so the operator sees them all at once; the trust is returned only when there are none.
 */
export function parseCiIdentities(text: string, file: string, options: { production: boolean }, problems: string[]): CiIdentityTrust | undefined {
  const where = `PLATFORM_CI_IDENTITIES_FILE ${file}`;
  const before = problems.length;
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    problems.push(`${where} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
      problems.push(`${where}: ${path || '(root)'}: ${issue.message}`);
    }
    return undefined;
  }

  const data = parsed.data;
  const httpsOnly = options.production;
  const issuers: OidcIssuerTrust[] = [];
  /** Names of every issuer entry, valid or not: a rule naming a broken one is not a second problem. */
  const names = new Set<string>();
  data.issuers.forEach((entry, index) => {
    const at = `${where}: issuers[${index}]`;
    const knownName = Object.entries(WELL_KNOWN_ISSUERS).find(([, url]) => url === entry.issuer)?.[0];
    const name = entry.name ?? knownName;
    const issuer = entry.issuer ?? (entry.name ? WELL_KNOWN_ISSUERS[entry.name] : undefined);
    if (name) names.add(name);
    if (!issuer) {
      problems.push(`${at}: issuer is required (the tokens' "iss" URL) unless name is ${Object.keys(WELL_KNOWN_ISSUERS).join(' or ')}`);
      return;
    }
    if (!name) {
      problems.push(`${at}: name is required for ${issuer} (a short lowercase name: the prefix of callers' subjects, and what rules refer to)`);
      return;
    }
    if (!entry.audience) {
      problems.push(
        `${at} (${name}): audience is required: the "aud" your pipelines request (GitHub Actions: core.getIDToken(audience) or ACTIONS_ID_TOKEN_REQUEST_URL&audience=…; GitLab CI: id_tokens.<NAME>.aud), e.g. the platform's URL`,
      );
      return;
    }
    checkIssuerUrl(issuer, `${at} (${name}): issuer`, httpsOnly, problems);
    if (entry.jwksUri) checkIssuerUrl(entry.jwksUri, `${at} (${name}): jwksUri`, httpsOnly, problems);
    if (issuers.some((other) => other.name === name)) problems.push(`${at}: the name ${name} is used by two issuers`);
    if (issuers.some((other) => other.issuer === issuer)) problems.push(`${at}: the issuer ${issuer} is listed twice`);
    issuers.push({ name, issuer, audiences: asList(entry.audience), ...(entry.jwksUri ? { jwksUri: entry.jwksUri } : {}) });
  });

  const rules: CiIdentityRule[] = [];
  data.rules.forEach((entry, index) => {
    const at = `${where}: rules[${index}]`;
    const problemsBefore = problems.length;
    if (!names.has(entry.issuer)) {
      problems.push(`${at}: issuer "${entry.issuer}" is not one of the issuers (${[...names].join(', ') || 'none'})`);
    }
    const claims = Object.fromEntries(Object.entries(entry.claims).map(([claim, value]) => [claim, asList(value)]));
    for (const claim of Object.keys(claims)) {
      if (RESERVED_CLAIMS.has(claim)) problems.push(`${at}: claims.${claim}: the platform checks "${claim}" itself; match on repository, ref, environment and the like`);
    }
    const pinned = Object.entries(claims).some(([claim, patterns]) => patterns.every((pattern) => pinsOwner(claim, pattern)));
    if (!pinned) {
      problems.push(
        `${at}: claims must pin whose pipeline it is: one of ${[...OWNER_CLAIMS.path, ...OWNER_CLAIMS.owner, ...OWNER_CLAIMS.id].join(', ')}, without a leading wildcard (e.g. repository: acme/payments or acme/*; project_path: group/project); otherwise the rule would match pipelines of anyone on that CI service`,
      );
    }
    if (entry.projects.length + entry.roles.length === 0) problems.push(`${at}: a rule needs at least one project or role`);
    if (problems.length === problemsBefore) rules.push({ issuer: entry.issuer, claims, projects: entry.projects, roles: entry.roles });
  });
  if (data.rules.length === 0) problems.push(`${where}: rules: no rule: every token would be refused; add a rule per repository or project`);

  if (problems.length > before) return undefined;
  return { file, issuers, rules, clockToleranceSec: Math.round(data.clockTolerance / 1000), timeoutMs: data.timeout, httpsOnly };
}

/** Reads and parses the file PLATFORM_CI_IDENTITIES_FILE names; problems as in `parseCiIdentities`. */
export function readCiIdentities(file: string, options: { production: boolean }, problems: string[]): CiIdentityTrust | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`PLATFORM_CI_IDENTITIES_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  return parseCiIdentities(text, file, options, problems);
}
