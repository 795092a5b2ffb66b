/**
 * Lists of runs, newest first, one page at a time (`limit`, then `cursor` = the previous page's
 * `nextCursor`), built on the search attributes runs write:
 *   GET /v1/deployments                      filters: project, service, environment, status, stage, changeNumber
 *   GET /v1/deployments/{id}/runs            every run of one deployment id
 *   GET /v1/landing-zones                    filters: tenant, status
 *   GET /v1/landing-zones/{project}/runs     its creation, update and decommission runs
 * A caller sees only what its token may read; a filter naming something else is refused (403).
 */
import { Router, type Response } from 'express';
import type { PlatformConfig } from '../../shared/config';
import { DEPLOY_WORKFLOW_TYPE } from '../../shared/contracts/deploy';
import {
  LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE,
  LANDING_ZONE_UPDATE_WORKFLOW_TYPE,
  LANDING_ZONE_WORKFLOW_TYPE,
  landingZoneOperationWorkflowId,
  landingZoneWorkflowId,
} from '../../shared/contracts/landing-zone';
import { deploymentListQuerySchema, landingZoneListQuerySchema, runListQuerySchema } from '../../shared/schemas/lists';
import { ChangeNumber, DeployEnvironment, DeployProject, DeployService, DeployStage, DeployStatus } from '../../shared/search-attributes';
import type { LandingZoneRepository } from '../../shared/store';
import { assertMayDeploy, mayReadLandingZone, principalOf, type Principal } from '../auth';
import { InputError, NotAllowedError, NotFoundError } from '../errors';
import { InvalidCursorError, queryValue, type RunPage, type RunSummary, type TemporalRuns } from '../temporal-runs';
import { parseQuery } from '../validate';

export interface RunListDeps {
  config: PlatformConfig;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
}

const DEPLOYMENT_ID = /^deploy\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-f0-9]{16}$/;
const PROJECT = /^[a-z][-a-z0-9]{0,62}$/;

const OPERATIONS: Record<string, string> = {
  [LANDING_ZONE_WORKFLOW_TYPE]: 'create',
  [LANDING_ZONE_UPDATE_WORKFLOW_TYPE]: 'update',
  [LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE]: 'decommission',
};

/** `Name = 'value'` terms joined with AND; undefined values are left out. */
function where(terms: (string | undefined)[]): string {
  return terms.filter((t): t is string => t !== undefined).join(' AND ');
}
const equals = (name: string, value: string | undefined): string | undefined => (value === undefined ? undefined : `${name} = ${queryValue(value)}`);
const oneOf = (name: string, values: readonly string[]): string => `${name} IN (${values.map(queryValue).join(', ')})`;

/** The projects the caller may list, or 'all'. */
function deployableProjects(principal: Principal): readonly string[] | 'all' {
  return principal.hasRole('platform-admin') || principal.projects.includes('*') ? 'all' : principal.projects;
}

/** The landing zones the caller may list (of `tenant`, when given), or 'all'. */
function readableLandingZones(principal: Principal, tenant: string | undefined, landingZones: LandingZoneRepository): readonly string[] | 'all' {
  if (tenant) {
    if (!principal.hasRole('platform-admin') && !principal.hasRole(`tenant-admin:${tenant}`)) {
      throw new NotAllowedError(`${principal.subject} may not list the landing zones of tenant ${tenant}: needs platform-admin or tenant-admin:${tenant}`);
    }
    return landingZones.projectsOf(tenant);
  }
  if (principal.hasRole('platform-admin') || principal.projects.includes('*')) return 'all';
  // Tenants the caller administers, projects it owns, and projects it may deploy.
  const roleTargets = (prefix: string) => principal.roles.flatMap((role) => (role.startsWith(prefix) ? [role.slice(prefix.length)] : []));
  return [...new Set([...roleTargets('tenant-admin:').flatMap((t) => landingZones.projectsOf(t)), ...roleTargets('project-owner:'), ...principal.projects])];
}

async function page(runs: TemporalRuns, query: string, limit: number, cursor: string | undefined): Promise<RunPage> {
  try {
    return await runs.list(query, limit, cursor);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new InputError(error.message, [{ field: 'cursor', message: error.message }]);
    throw error;
  }
}

export function runListRoutes({ config, runs, landingZones }: RunListDeps): Router {
  const router = Router();
  const base = config.api.publicBaseUrl;
  const deployment = (run: RunSummary) => ({
    deploymentId: run.workflowId,
    runId: run.runId,
    project: run.project,
    service: run.service,
    environment: run.environment,
    status: run.status,
    stage: run.stage,
    changeNumber: run.changeNumber,
    startedAt: run.startedAt,
    closedAt: run.closedAt,
    links: { self: `${base}/v1/deployments/${run.workflowId}`, temporalUi: runs.uiLink(run.workflowId, run.runId) },
  });
  const landingZoneRun = (run: RunSummary) => ({
    project: run.project,
    operation: OPERATIONS[run.type] ?? run.type,
    workflowId: run.workflowId,
    runId: run.runId,
    status: run.status,
    stage: run.stage,
    changeNumber: run.changeNumber,
    startedAt: run.startedAt,
    closedAt: run.closedAt,
    links: { self: `${base}/v1/landing-zones/${run.project ?? ''}`, temporalUi: runs.uiLink(run.workflowId, run.runId) },
  });
  const send = <T>(res: Response, result: RunPage, present: (run: RunSummary) => T) => {
    res.json({ items: result.runs.map(present), ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) });
  };

  router.get('/deployments', async (req, res) => {
    const q = parseQuery(deploymentListQuerySchema, req.query);
    const principal = principalOf(res);
    const visible = deployableProjects(principal);
    if (q.project) assertMayDeploy(principal, q.project);
    const query = where([
      `WorkflowType = ${queryValue(DEPLOY_WORKFLOW_TYPE)}`,
      q.project ? equals(DeployProject.name, q.project) : visible === 'all' ? undefined : oneOf(DeployProject.name, visible.length > 0 ? visible : ['-']),
      equals(DeployService.name, q.service),
      equals(DeployEnvironment.name, q.environment),
      equals(DeployStatus.name, q.status),
      equals(DeployStage.name, q.stage),
      equals(ChangeNumber.name, q.changeNumber),
    ]);
    send(res, await page(runs, query, q.limit, q.cursor), deployment);
  });

  router.get('/deployments/:id/runs', async (req, res) => {
    const q = parseQuery(runListQuerySchema, req.query);
    const id = req.params.id;
    if (!DEPLOYMENT_ID.test(id)) throw new NotFoundError(`no deployment "${id}"`);
    assertMayDeploy(principalOf(res), id.split('.')[1] ?? '');
    const result = await page(runs, where([`WorkflowId = ${queryValue(id)}`, `WorkflowType = ${queryValue(DEPLOY_WORKFLOW_TYPE)}`]), q.limit, q.cursor);
    if (result.runs.length === 0 && !q.cursor) throw new NotFoundError(`no deployment "${id}"`);
    send(res, result, deployment);
  });

  router.get('/landing-zones', async (req, res) => {
    const q = parseQuery(landingZoneListQuerySchema, req.query);
    const projects = readableLandingZones(principalOf(res), q.tenant, landingZones);
    const query = where([
      `WorkflowType = ${queryValue(LANDING_ZONE_WORKFLOW_TYPE)}`,
      projects === 'all' ? undefined : oneOf(DeployProject.name, projects.length > 0 ? projects : ['-']),
      equals(DeployStatus.name, q.status),
    ]);
    send(res, await page(runs, query, q.limit, q.cursor), landingZoneRun);
  });

  router.get('/landing-zones/:project/runs', async (req, res) => {
    const q = parseQuery(runListQuerySchema, req.query);
    const project = req.params.project;
    if (!PROJECT.test(project)) throw new NotFoundError(`no landing zone for "${project}"`);
    const principal = principalOf(res);
    if (!mayReadLandingZone(principal, project, landingZones.find(project)?.tenant)) {
      throw new NotAllowedError(`${principal.subject} may not read the landing zone of "${project}"`);
    }
    const query = oneOf('WorkflowId', [landingZoneWorkflowId(project), landingZoneOperationWorkflowId(project)]);
    const result = await page(runs, query, q.limit, q.cursor);
    if (result.runs.length === 0 && !q.cursor) throw new NotFoundError(`no landing zone for "${project}"`);
    send(res, result, landingZoneRun);
  });

  return router;
}
