import type { RequestHandler, Response } from 'express';
import { hashToken, type CiTokenGrant, type Role } from '../shared/config';
import { NotAllowedError, NotAuthenticatedError } from './errors';

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
 * itself is never compared character by character nor kept in memory in plain text.
 */
export function requireBearerToken(
  tokens: ReadonlyMap<string, CiTokenGrant>,
  /** Tokens the platform issued at run time (landing zones); looked up after the configured ones. */
  issued?: (tokenHash: string) => CiTokenGrant | undefined,
): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new NotAuthenticatedError('missing bearer token: send "Authorization: Bearer <token>"');
    }
    const tokenHash = hashToken(match[1]);
    const grant = tokens.get(tokenHash) ?? issued?.(tokenHash);
    if (!grant) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new NotAuthenticatedError('the bearer token is not valid');
    }
    const principal: Principal = {
      ...grant,
      mayDeploy: (project) => grant.projects.includes('*') || grant.projects.includes(project),
      hasRole: (role) => grant.roles.includes(role),
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
