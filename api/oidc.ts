/**
 * Verifies CI OIDC ID tokens (GitHub Actions, GitLab CI) sent as bearer tokens, with `jose`
 * against each issuer's JSON Web Key Set, and maps their claims to a grant by the configured
 * rules (shared/config/oidc.ts). Checked: the issuer is trusted, the signature (RS256 or ES256
 * only) by a key of that issuer, the audience, `exp` (required) and `nbf` with a small clock
 * tolerance. Nothing of the token is logged. ADR 14.
 */
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { CiTokenGrant, Role } from '../shared/config';
import type { CiIdentityRule, CiIdentityTrust, OidcIssuerTrust } from '../shared/config/oidc';
import type { Logger } from '../shared/logger';

type Jose = typeof JoseModule;
type KeySet = JoseModule.RemoteJWKSet;
type KeyGetter = JoseModule.JWTVerifyGetKey<JoseModule.CryptoKey>;
export type JwtClaims = JoseModule.JWTPayload;

/** jose is ESM-only and this project is CommonJS: loaded once, on the first OIDC token. */
let loading: Promise<Jose> | undefined;
const loadJose = (): Promise<Jose> => (loading ??= import('jose'));

/** What CI services sign with; `none`, HMAC and everything else is refused before any key is looked at. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256'] as const;

/** Seconds a 503 asks callers to wait (the issuer's keys could not be fetched). */
export const OIDC_RETRY_AFTER_SEC = 5;

/** How long fetched keys are used before they are fetched again, and the least time between two fetches. */
const KEYS_MAX_AGE_MS = 10 * 60_000;
const KEYS_COOLDOWN_MS = 30_000;

export type OidcOutcome =
  | { grant: CiTokenGrant }
  /** 401: not a token the platform accepts; `detail` says why (never the token). */
  | { refused: 'invalid_token'; detail: string }
  /** 403: a valid token, but no rule grants its identity anything. */
  | { refused: 'no_grant'; detail: string }
  /** 503: the issuer's keys could not be fetched; nothing is known about the token. */
  | { refused: 'unavailable'; detail: string };

export interface OidcVerifier {
  verify(token: string): Promise<OidcOutcome>;
}

/** Three base64url segments (the signature may be empty, as in `alg: none`: refused, with a reason). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** `*` matches any run of characters (slashes too); everything else literally. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** A claim as text: strings, numbers and booleans; anything else never matches. */
function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The readable name of the caller, as requester and in audit records: `github:acme/payments@refs/heads/main`,
 * `gitlab:group/project@main`; `<issuer>:<sub>` for a token without repository or project.
 */
export function subjectOf(issuerName: string, claims: JwtClaims): string {
  const who = claimText(claims.repository) ?? claimText(claims.project_path) ?? claimText(claims.sub) ?? '?';
  const ref = claimText(claims.ref);
  return `${issuerName}:${who}${ref ? `@${ref}` : ''}`;
}

interface CompiledRule {
  rule: CiIdentityRule;
  claims: [string, RegExp[]][];
}

function compile(rule: CiIdentityRule): CompiledRule {
  return { rule, claims: Object.entries(rule.claims).map(([claim, patterns]) => [claim, patterns.map(globToRegExp)]) };
}

function matches(compiled: CompiledRule, claims: JwtClaims): boolean {
  return compiled.claims.every(([claim, patterns]) => {
    const value = claimText(claims[claim]);
    return value !== undefined && patterns.some((pattern) => pattern.test(value));
  });
}

/** The grant of every rule of the issuer the claims match, together; undefined when none does. */
export function grantOf(rules: readonly CiIdentityRule[], issuerName: string, claims: JwtClaims): CiTokenGrant | undefined {
  const matching = rules
    .filter((rule) => rule.issuer === issuerName)
    .map(compile)
    .filter((compiled) => matches(compiled, claims));
  if (matching.length === 0) return undefined;
  return {
    subject: subjectOf(issuerName, claims),
    projects: [...new Set(matching.flatMap((m) => m.rule.projects))],
    roles: [...new Set<Role>(matching.flatMap((m) => m.rule.roles))],
  };
}

/** The key set of an issuer could not be had (network, timeout, HTTP error, not a key set). */
class KeysUnavailable extends Error {}

const joseCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;

const reason = (error: unknown): string => (error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error));

/** Verifies tokens of the configured issuers; keys are fetched on first use and cached (jose). */
export function createOidcVerifier(trust: CiIdentityTrust, options: { logger?: Logger } = {}): OidcVerifier {
  const logger = options.logger;
  const rules = trust.rules;
  const keySets = new Map<string, Promise<KeySet>>();

  /** The issuer's `jwks_uri` from its discovery document (checked to be about that issuer). */
  const discover = async (issuer: OidcIssuerTrust): Promise<string> => {
    const url = `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(trust.timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
    } catch (error) {
      throw new KeysUnavailable(`discovery document ${url}: ${reason(error)}`);
    }
    if (response.status !== 200) throw new KeysUnavailable(`discovery document ${url} answered ${response.status}`);
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new KeysUnavailable(`discovery document ${url} is not JSON: ${reason(error)}`);
    }
    if (document.issuer !== issuer.issuer) throw new KeysUnavailable(`discovery document ${url} is about another issuer`);
    const jwksUri = typeof document.jwks_uri === 'string' ? document.jwks_uri : '';
    if (!URL.canParse(jwksUri) || (trust.httpsOnly && new URL(jwksUri).protocol !== 'https:')) {
      throw new KeysUnavailable(`discovery document ${url} has no usable jwks_uri`);
    }
    return jwksUri;
  };

  /** One key getter per issuer; a failed discovery is forgotten, so the next request tries again. */
  const keysOf = (issuer: OidcIssuerTrust): Promise<KeySet> => {
    let keys = keySets.get(issuer.name);
    if (!keys) {
      keys = (async () => {
        const jose = await loadJose();
        const jwksUri = issuer.jwksUri ?? (await discover(issuer));
        return jose.createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: trust.timeoutMs, cacheMaxAge: KEYS_MAX_AGE_MS, cooldownDuration: KEYS_COOLDOWN_MS });
      })();
      keySets.set(issuer.name, keys);
      keys.catch(() => keySets.delete(issuer.name));
    }
    return keys;
  };

  /** The key for a token; anything but "no such key" means the key set itself could not be had. */
  const keyGetter = (issuer: OidcIssuerTrust): KeyGetter => async (header, token) => {
    const keys = await keysOf(issuer);
    try {
      return await keys(header, token);
    } catch (error) {
      const code = joseCode(error);
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      throw new KeysUnavailable(`key set of ${issuer.name}: ${reason(error)}`);
    }
  };

  const invalid = (detail: string): OidcOutcome => ({ refused: 'invalid_token', detail });

  return {
    async verify(token) {
      const jose = await loadJose();
      let header: JoseModule.ProtectedHeaderParameters;
      let unverified: JwtClaims;
      try {
        header = jose.decodeProtectedHeader(token);
        unverified = jose.decodeJwt(token);
      } catch {
        return invalid('the bearer token looks like a JWT but cannot be decoded');
      }
      if (!(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg ?? '')) {
        return invalid(`OIDC tokens must be signed with ${ACCEPTED_ALGORITHMS.join(' or ')}; this one says alg "${String(header.alg)}"`);
      }
      // Only to pick the issuer whose keys to check with: verified again below.
      const issuer = trust.issuers.find((candidate) => candidate.issuer === unverified.iss);
      if (!issuer) {
        const iss = typeof unverified.iss === 'string' ? `"${unverified.iss.slice(0, 200)}"` : '(none)';
        return invalid(`the OIDC token's issuer ${iss} is not trusted (trusted: ${trust.issuers.map((i) => i.issuer).join(', ')})`);
      }
      const of = `the OIDC token of ${issuer.name}`;

      let claims: JwtClaims;
      try {
        ({ payload: claims } = await jose.jwtVerify(token, keyGetter(issuer), {
          algorithms: [...ACCEPTED_ALGORITHMS],
          issuer: issuer.issuer,
          audience: issuer.audiences,
          clockTolerance: trust.clockToleranceSec,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        if (error instanceof KeysUnavailable) {
          logger?.warn('OIDC keys unavailable', { issuer: issuer.name, error: error.message });
          return { refused: 'unavailable', detail: `the signing keys of ${issuer.name} (${issuer.issuer}) cannot be fetched right now; try again shortly` };
        }
        const claim = (error as { claim?: unknown }).claim;
        switch (joseCode(error)) {
          case 'ERR_JWT_EXPIRED':
            return invalid(`${of} has expired (exp); request a fresh one in the job`);
          case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
            if (claim === 'nbf') return invalid(`${of} is not valid yet (nbf); is a clock wrong?`);
            if (claim === 'aud') return invalid(`${of} is for another audience: request it with audience ${issuer.audiences.map((a) => `"${a}"`).join(' or ')}`);
            if (claim === 'iss') return invalid(`${of} names another issuer`);
            return invalid(`${of} has an invalid "${String(claim)}" claim: ${(error as Error).message}`);
          case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
            return invalid(`the signature of ${of} does not verify with ${issuer.name}'s keys`);
          case 'ERR_JWKS_NO_MATCHING_KEY':
            return invalid(`${issuer.name} has no signing key ${typeof header.kid === 'string' ? `with kid "${header.kid.slice(0, 100)}"` : 'that matches the token'}`);
          case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
            return invalid(`${of} names no key (kid) and ${issuer.name} has several`);
          case 'ERR_JOSE_ALG_NOT_ALLOWED':
            return invalid(`OIDC tokens must be signed with ${ACCEPTED_ALGORITHMS.join(' or ')}`);
          case 'ERR_JWS_INVALID':
          case 'ERR_JWT_INVALID':
          case 'ERR_JOSE_NOT_SUPPORTED':
          case 'ERR_JWK_INVALID':
            return invalid(`${of} is malformed: ${(error as Error).message}`);
          default:
            throw error;
        }
      }

      const grant = grantOf(rules, issuer.name, claims);
      if (!grant) {
        return {
          refused: 'no_grant',
          detail: `no CI identity rule grants ${subjectOf(issuer.name, claims)} anything (rules match claims such as repository, project_path, ref, environment); ask a platform admin to add one`,
        };
      }
      return { grant };
    },
  };
}
