import type { NextFunction, Request, Response } from 'express';
import { hashToken, type CiTokenGrant, type Role } from '../shared/config';
import { NotAllowedError, NotAuthenticatedError, ServiceUnavailableError } from './errors';
import { looksLikeJwt, OIDC_RETRY_AFTER_SEC, type OidcVerifier } from './oidc';

export interface Principal extends CiTokenGrant {
  /** Lets the caller act on `project`. */
  mayDeploy(project: string): boolean;
  hasRole(role: Role): boolean;
}

/** The authenticated caller, set by `requireBearerToken`. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new NotAuthenticatedError('authentication required');
  return principal;
}

/**
 * Bearer-token authentication for CI callers. Tokens are looked up by their sha256, so the secret
 * itself is never compared character by character nor kept in memory in plain text. When CI
 * identities are configured, a bearer that is no known token and looks like a JWT is verified as
 * an OIDC ID token (api/oidc.ts) and its claims mapped to a grant; without them it is just an
 * unknown token.
 */
export function requireBearerToken(
  tokens: ReadonlyMap<string, CiTokenGrant>,
  /** Tokens the platform issued at run time (landing zones); looked up after the configured ones. */
  issued?: (tokenHash: string) => CiTokenGrant | undefined,
  /** OIDC ID tokens of trusted CI issuers (PLATFORM_CI_IDENTITIES_FILE). */
  oidc?: OidcVerifier,
): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new NotAuthenticatedError('missing bearer token: send "Authorization: Bearer <token>"');
    }
    const token = match[1];
    const tokenHash = hashToken(token);
    let grant = tokens.get(tokenHash) ?? issued?.(tokenHash);
    if (!grant && oidc && looksLikeJwt(token)) {
      const outcome = await oidc.verify(token);
      if ('grant' in outcome) {
        grant = outcome.grant;
      } else if (outcome.refused === 'unavailable') {
        res.set('Retry-After', String(OIDC_RETRY_AFTER_SEC));
        throw new ServiceUnavailableError(outcome.detail);
      } else if (outcome.refused === 'no_grant') {
        throw new NotAllowedError(outcome.detail);
      } else {
        res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        throw new NotAuthenticatedError(outcome.detail);
      }
    }
    if (!grant) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new NotAuthenticatedError('the bearer token is not valid');
    }
    const granted = grant;
    const principal: Principal = {
      ...granted,
      mayDeploy: (project) => granted.projects.includes('*') || granted.projects.includes(project),
      hasRole: (role) => granted.roles.includes(role),
    };
    res.locals.principal = principal;
    next();
  };
}

export function assertMayDeploy(principal: Principal, project: string): void {
  if (!principal.mayDeploy(project)) {
    throw new NotAllowedError(`token of ${principal.subject} may not deploy project "${project}"`);
  }
}

/** Refuses with 403 unless the caller holds one of `roles`; the message names what is needed. */
export function assertRole(principal: Principal, roles: Role[], action: string): void {
  if (!roles.some((role) => principal.hasRole(role))) {
    throw new NotAllowedError(`${principal.subject} may not ${action}: needs ${roles.join(' or ')}`);
  }
}

/** Who may read a landing zone: admins, its tenant's admins, its owners, and tokens that may deploy it. */
export function mayReadLandingZone(principal: Principal, project: string, tenant: string | undefined): boolean {
  return (
    principal.hasRole('platform-admin') ||
    principal.hasRole(`project-owner:${project}`) ||
    (tenant !== undefined && principal.hasRole(`tenant-admin:${tenant}`)) ||
    principal.mayDeploy(project)
  );
}
