/**
 * The environment hierarchy over HTTP: read a project's resolved configuration, write and delete
 * entries at global, tenant and project scope. Secrets are references only (`secretRef`), never
 * values; a value under a secret-sounding key is refused.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Role } from '../../shared/config';
import { dnsLabel } from '../../shared/schemas/deployment';
import type { ConfigurationRepository, EntryLocation } from '../../shared/store';
import { assertRole, principalOf } from '../auth';
import { InputError, NotAllowedError, NotFoundError, fieldErrors } from '../errors';
import { parsedBody, validateBody } from '../validate';

const KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
const SECRET_SOUNDING = /(password|passwd|secret|token|private[-_.]?key|credential|api[-_.]?key)/i;

const environmentParam = dnsLabel(20);

const entryBodySchema = z
  .strictObject({
    value: z.string().max(4096).optional(),
    secretRef: z
      .string()
      .max(512)
      .regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, 'must be a secret reference such as vault://kv/payments/db#password')
      .optional(),
    environment: environmentParam.optional(),
  })
  .refine((body) => (body.value === undefined) !== (body.secretRef === undefined), {
    message: 'give exactly one of value or secretRef',
    path: ['value'],
  });
type EntryBody = z.infer<typeof entryBodySchema>;

function checkNames(params: Record<string, string | undefined>): void {
  const errors = [];
  for (const [field, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const schema = field === 'key' ? z.string().regex(KEY, 'must start with a letter and use letters, digits, _ . -') : dnsLabel(30);
    const result = schema.safeParse(value);
    if (!result.success) errors.push(...fieldErrors(result.error, field));
  }
  if (errors.length > 0) throw new InputError('the path names an invalid entry', errors);
}

function environmentQuery(req: Request): string | undefined {
  const raw = req.query.environment;
  if (raw === undefined) return undefined;
  const result = environmentParam.safeParse(raw);
  if (!result.success) throw new InputError('invalid query parameter', fieldErrors(result.error, 'environment'));
  return result.data;
}

export function configRoutes(configuration: ConfigurationRepository): Router {
  const router = Router();

  router.get('/config/:tenant/:project', (req, res) => {
    const { tenant, project } = req.params;
    checkNames({ tenant, project });
    const principal = principalOf(res);
    const allowed =
      principal.hasRole('platform-admin') ||
      principal.hasRole(`tenant-admin:${tenant}`) ||
      principal.hasRole(`project-owner:${project}`) ||
      principal.mayDeploy(project);
    if (!allowed) throw new NotAllowedError(`${principal.subject} may not read the configuration of ${tenant}/${project}`);
    const environment = environmentQuery(req);
    const entries = configuration.resolve(tenant, project, environment).map((entry) => ({
      key: entry.key,
      ...(entry.secretRef !== undefined ? { secretRef: entry.secretRef, secret: true } : { value: entry.value, secret: false }),
      scope: entry.scope,
      environment: entry.environment,
      updatedBy: entry.updatedBy,
      updatedAt: entry.updatedAt,
    }));
    res.json({ tenant, project, environment: environment ?? null, entries });
  });

  /** Registers PUT and DELETE for one scope's entries. */
  const scopeRoutes = (path: string, scope: EntryLocation['scope'], writers: (params: Record<string, string>) => Role[]) => {
    const locate = (req: Request, res: Response, environment: string | undefined): EntryLocation => {
      const params = req.params as Record<string, string>;
      checkNames(params);
      assertRole(principalOf(res), writers(params), `write ${scope} configuration`);
      return { scope, tenant: params.tenant, project: params.project, environment, key: params.key ?? '' };
    };

    router.put(path, validateBody(entryBodySchema), (req, res) => {
      const body = parsedBody<EntryBody>(res);
      const location = locate(req, res, body.environment);
      if (body.value !== undefined && SECRET_SOUNDING.test(location.key)) {
        throw new InputError('secrets are stored as references', [
          { field: 'value', message: `"${location.key}" looks like a secret: store it in your secret manager and send its reference as secretRef` },
        ]);
      }
      const content = body.secretRef !== undefined ? { secretRef: body.secretRef } : { value: body.value ?? '' };
      const outcome = configuration.upsert(location, content, principalOf(res).subject);
      res.status(outcome === 'created' ? 201 : 200).json({ ...location, ...content, outcome });
    });

    router.delete(path, (req, res) => {
      const location = locate(req, res, environmentQuery(req));
      if (!configuration.delete(location)) throw new NotFoundError(`no ${scope} entry "${location.key}"${location.environment ? ` for ${location.environment}` : ''}`);
      res.status(204).end();
    });
  };

  scopeRoutes('/config/global/entries/:key', 'global', () => ['platform-admin']);
  scopeRoutes('/config/tenants/:tenant/entries/:key', 'tenant', ({ tenant }) => ['platform-admin', `tenant-admin:${tenant}`]);
  scopeRoutes('/config/tenants/:tenant/projects/:project/entries/:key', 'project', ({ tenant, project }) => [
    'platform-admin',
    `tenant-admin:${tenant}`,
    `project-owner:${project}`,
  ]);

  return router;
}
