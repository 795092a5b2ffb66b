/**
 * The environment hierarchy over HTTP: read a project's resolved configuration, write and delete
 * entries at global, tenant and project scope. Secrets are references only (`secretRef`), never
 * values; the entry rules (shared with the repository) refuse what looks like a secret value.
 * Values are never logged: the request log has the path only, and no message repeats a value.
 */
import { Router, type Request, type Response } from 'express';
import { configEntryBodySchema as entryBodySchema, configEnvironmentSchema as environmentName, type ConfigEntryBody as EntryBody } from '../../shared/schemas/config';
import { dnsLabel } from '../../shared/schemas/deployment';
import {
  contentProblems,
  keyProblems,
  type ConfigurationRepository,
  type EntryLocation,
  type EntryProblem,
  type LandingZoneRepository,
  type Scope,
  type StoredEntry,
} from '../../shared/store';
import type { Audit } from '../audit';
import { assertRole, principalOf, type Principal } from '../auth';
import { InputError, NotAllowedError, NotFoundError, fieldErrors, type FieldError } from '../errors';
import { parsedBody, validateBody } from '../validate';

export interface ConfigRoutesDeps {
  configuration: ConfigurationRepository;
  /** Which tenant a project belongs to: its landing zone says so. */
  landingZones: Pick<LandingZoneRepository, 'find'>;
  audit: Audit;
}

function refuse(message: string, problems: (EntryProblem | FieldError)[]): void {
  if (problems.length > 0) throw new InputError(message, problems.map(({ field, message: text }) => ({ field, message: text })));
}

function checkPathNames(params: { tenant?: string; project?: string; key?: string }): void {
  const problems: FieldError[] = [];
  for (const field of ['tenant', 'project'] as const) {
    const value = params[field];
    if (value === undefined) continue;
    const result = dnsLabel(30).safeParse(value);
    if (!result.success) problems.push(...fieldErrors(result.error, field));
  }
  if (params.key !== undefined) problems.push(...keyProblems(params.key));
  refuse('the path names an invalid entry', problems);
}

function environmentQuery(req: Request): string | undefined {
  const raw = req.query.environment;
  if (raw === undefined) return undefined;
  const result = environmentName.safeParse(raw);
  if (!result.success) throw new InputError('invalid query parameter', fieldErrors(result.error, 'environment'));
  return result.data;
}

function present(entry: StoredEntry) {
  return {
    key: entry.key,
    ...(entry.secretRef !== undefined ? { secretRef: entry.secretRef, secret: true } : { value: entry.value, secret: false }),
    scope: entry.scope,
    environment: entry.environment,
    updatedBy: entry.updatedBy,
    updatedAt: entry.updatedAt,
  };
}

export function configRoutes({ configuration, landingZones, audit }: ConfigRoutesDeps): Router {
  const router = Router();

  /**
   * Admins act by role. Project-level grants (owner role, a deploy token) count only inside the
   * project's own tenant, which its landing zone records; otherwise a project token could read
   * any tenant's entries by putting that tenant in the path.
   */
  const authoriseProject = (principal: Principal, tenant: string, project: string, action: string, deployTokensMay: boolean): void => {
    const admin = principal.hasRole('platform-admin') || principal.hasRole(`tenant-admin:${tenant}`);
    const projectGrant = principal.hasRole(`project-owner:${project}`) || (deployTokensMay && principal.mayDeploy(project));
    if (!admin && !projectGrant) {
      const needed = `platform-admin or tenant-admin:${tenant} or project-owner:${project}${deployTokensMay ? ` or a token for project ${project}` : ''}`;
      throw new NotAllowedError(`${principal.subject} may not ${action}: needs ${needed}`);
    }
    const home = landingZones.find(project)?.tenant;
    if (home !== undefined && home !== tenant) throw new NotFoundError(`project "${project}" is not in tenant "${tenant}"`);
    if (home === undefined && !admin) {
      throw new NotAllowedError(
        `${principal.subject} may not ${action}: project "${project}" has no landing zone yet, so its tenant is not known; until then this needs platform-admin or tenant-admin:${tenant}`,
      );
    }
  };

  router.get('/config/:tenant/:project', (req, res) => {
    const { tenant, project } = req.params;
    checkPathNames({ tenant, project });
    authoriseProject(principalOf(res), tenant, project, `read the configuration of ${tenant}/${project}`, true);
    const environment = environmentQuery(req);
    // A resolved configuration only exists for a project with a landing zone, in its environments.
    const record = landingZones.find(project);
    if (!record) throw new NotFoundError(`project "${project}" has no landing zone, so it has no configuration to resolve`);
    if (environment !== undefined && !record.environments.includes(environment)) {
      throw new NotFoundError(`the landing zone of "${project}" has no environment "${environment}" (it has ${record.environments.join(', ')})`);
    }
    const entries = configuration.resolve(tenant, project, environment).map(present);
    res.json({ tenant, project, environment: environment ?? null, entries });
  });

  const authorisers: Record<Scope, (principal: Principal, params: { tenant?: string; project?: string }) => void> = {
    global: (principal) => assertRole(principal, ['platform-admin'], 'write global configuration'),
    tenant: (principal, { tenant = '' }) => assertRole(principal, ['platform-admin', `tenant-admin:${tenant}`], `write the configuration of tenant ${tenant}`),
    project: (principal, { tenant = '', project = '' }) => authoriseProject(principal, tenant, project, `write the configuration of ${tenant}/${project}`, false),
  };

  /** Registers PUT and DELETE for one scope's entries. */
  const scopeRoutes = (path: string, scope: Scope): void => {
    const locate = (req: Request, res: Response, environment: string | undefined): EntryLocation => {
      const { tenant, project, key = '' } = req.params as { tenant?: string; project?: string; key?: string };
      checkPathNames({ tenant, project, key });
      authorisers[scope](principalOf(res), { tenant, project });
      return { scope, tenant, project, environment, key };
    };

    /** The entry's names for the audit log, as the path gives them: never the value. */
    const auditTarget = (req: Request, environment: unknown) => {
      const { tenant, project, key } = req.params as { tenant?: string; project?: string; key?: string };
      const name = (text: unknown) => (typeof text === 'string' ? text.slice(0, 200) : undefined);
      return { scope, tenant: name(tenant), project: name(project), key: name(key), environment: name(environment) };
    };

    router.put(path, validateBody(entryBodySchema), async (req, res) => {
      const body = parsedBody<EntryBody>(res);
      await audit.action(req, res, 'config.set', auditTarget(req, body.environment), () => {
        const location = locate(req, res, body.environment);
        refuse('the entry cannot be stored as given', contentProblems(location.key, body));
        const content = body.secretRef !== undefined ? { secretRef: body.secretRef } : { value: body.value ?? '' };
        const outcome = configuration.upsert(location, content, principalOf(res).subject);
        const stored = configuration.find(location);
        if (!stored) throw new Error(`entry ${location.key} vanished right after it was written`);
        res.status(outcome === 'created' ? 201 : 200).json({
          ...(location.tenant !== undefined ? { tenant: location.tenant } : {}),
          ...(location.project !== undefined ? { project: location.project } : {}),
          ...present(stored),
        });
      });
    });

    router.delete(path, async (req, res) => {
      await audit.action(req, res, 'config.delete', auditTarget(req, req.query.environment), () => {
        const location = locate(req, res, environmentQuery(req));
        if (!configuration.delete(location)) {
          throw new NotFoundError(`no ${scope} entry "${location.key}" ${location.environment ? `for ${location.environment}` : 'for all environments'}`);
        }
        res.status(204).end();
      });
    });
  };

  scopeRoutes('/config/global/entries/:key', 'global');
  scopeRoutes('/config/tenants/:tenant/entries/:key', 'tenant');
  scopeRoutes('/config/tenants/:tenant/projects/:project/entries/:key', 'project');

  return router;
}
