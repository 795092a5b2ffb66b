/**
 * `POST /v1/landing-zones` (platform-admin) starts a landing-zone run for a new project;
 * `GET /v1/landing-zones/{project}` reports its status, resources, state, latest update or
 * decommission, and links. PATCH and DELETE are in `landing-zone-operations.ts`.
 */
import { Router } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { PlatformConfig } from '../../shared/config';
import {
  LANDING_ZONE_WORKFLOW_TYPE,
  landingZoneStatusQuery,
  landingZoneWorkflowId,
  type LandingZoneInput,
  type LandingZoneStatusView,
} from '../../shared/contracts/landing-zone';
import { loadProjectTemplate, PROJECT_CLASSES, TemplateError } from '../../shared/project-templates';
import { landingZoneRequestSchema, type LandingZoneRequestBody } from '../../shared/schemas/landing-zone';
import { DeployStatus } from '../../shared/search-attributes';
import type { LandingZoneRepository } from '../../shared/store';
import { assertRole, mayReadLandingZone, principalOf } from '../auth';
import { landingZoneApproval, landingZoneRunSearchAttributes, placeEnvironments } from '../landing-zone-policy';
import { lastOperation } from './landing-zone-operations';
import { ConflictError, InputError, NotAllowedError, NotFoundError, type FieldError } from '../errors';
import type { TemporalRuns } from '../temporal-runs';
import { parsedBody, validateBody } from '../validate';

export interface LandingZoneRoutesDeps {
  config: PlatformConfig;
  client: Client;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
  taskQueue: string;
}

export function landingZoneRoutes({ config, client, runs, landingZones, taskQueue }: LandingZoneRoutesDeps): Router {
  const router = Router();
  const links = (project: string, runId?: string) => ({
    self: `${config.api.publicBaseUrl}/v1/landing-zones/${project}`,
    temporalUi: runs.uiLink(landingZoneWorkflowId(project), runId),
  });

  router.post('/landing-zones', validateBody(landingZoneRequestSchema), async (_req, res) => {
    const principal = principalOf(res);
    assertRole(principal, ['platform-admin'], 'create landing zones');
    const body = parsedBody<LandingZoneRequestBody>(res);

    const problems: FieldError[] = [];
    let template: ReturnType<typeof loadProjectTemplate> | undefined;
    try {
      template = loadProjectTemplate(body.class);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      problems.push({ field: 'class', message: `"${body.class}" is not a project class; known: ${PROJECT_CLASSES.join(', ')}` });
    }
    const { placed, problems: placement } = placeEnvironments(config, body.project, body.environments, 'environments');
    problems.push(...placement);
    if (problems.length > 0 || !template) throw new InputError('the landing zone cannot be created as given', problems);
    if (landingZones.find(body.project)) throw new ConflictError(`project "${body.project}" already has a landing zone`, { project: body.project });

    const defaults = template.manifest.defaults;
    const input: LandingZoneInput = {
      request: {
        project: body.project,
        tenant: body.tenant,
        projectClass: body.class,
        owners: body.owners,
        environments: body.environments,
        ...(body.quota ? { quota: body.quota } : {}),
        requestedBy: principal.subject,
      },
      environments: placed,
      approval: landingZoneApproval(config, body.environments),
      quota: { ...defaults.quota, ...body.quota },
      containerDefaults: defaults.resources,
      defaults: { port: defaults.port, readinessPath: defaults.probes.readinessPath, livenessPath: defaults.probes.livenessPath },
      links: { apiUrl: config.api.publicBaseUrl, temporalUiUrl: config.temporal.uiUrl },
    };

    try {
      const handle = await client.workflow.start(LANDING_ZONE_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: landingZoneWorkflowId(body.project),
        args: [input],
        // One landing zone per project: a second request while the first runs meets it (409); once
        // it has ended, the registered record answers (409), so a project may be requested again
        // only after a run that failed, was rejected or rolled back, or after a decommission.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: landingZoneRunSearchAttributes(body.project),
        staticSummary: `Landing zone for ${body.tenant}/${body.project}`,
        staticDetails: `**Class** ${body.class}\n\n**Environments** ${body.environments.join(', ')}\n\n**Owners** ${body.owners.emails.join(', ')} (${body.owners.group})`,
      });
      res.status(202).location(links(body.project).self).json({
        project: body.project,
        landingZoneId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        status: 'running',
        approvalRequired: input.approval.required,
        links: links(body.project, handle.firstExecutionRunId),
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ConflictError(`project "${body.project}" already has a landing zone (being created or created)`, { project: body.project });
      }
      throw error;
    }
  });

  router.get('/landing-zones/:project', async (req, res) => {
    const project = req.params.project;
    const principal = principalOf(res);
    const record = landingZones.find(project);
    const tenant = record?.tenant;
    if (!mayReadLandingZone(principal, project, tenant)) throw new NotAllowedError(`${principal.subject} may not read the landing zone of "${project}"`);
    let view: LandingZoneStatusView | undefined;
    let recorded: string | undefined;
    let runId: string | undefined;
    try {
      const description = await client.workflow.getHandle(landingZoneWorkflowId(project)).describe();
      runId = description.runId;
      recorded = description.typedSearchAttributes.get(DeployStatus);
      const pinned = client.workflow.getHandle(landingZoneWorkflowId(project), runId);
      // No worker to answer: fall back to the status the run last recorded in its search attributes.
      view = await client.withDeadline(Date.now() + 5_000, () => pinned.query(landingZoneStatusQuery)).catch(() => undefined);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    if (!view && !record && !runId) throw new NotFoundError(`no landing zone for "${project}"`);
    const fallback = { project, status: recorded ?? (record ? 'succeeded' : 'running'), resources: record?.resources, detailsUnavailable: 'no worker answered the status query' };
    const operation = await lastOperation(client, project);
    // Read again after the operation's status: an operation that ended has written the record by then.
    const latest = landingZones.find(project);
    const decommissioned = !latest && operation?.operation === 'decommission' && operation.status === 'succeeded';
    res.json({
      ...(view ?? fallback),
      // The record is current (updates revise it); the creation run's view is as it was created.
      ...(latest ? { environments: latest.environments, resources: latest.resources } : {}),
      registered: latest !== undefined,
      state: latest?.state ?? (decommissioned ? 'decommissioned' : 'not-registered'),
      ...(operation ? { lastOperation: operation } : {}),
      links: links(project, runId ?? record?.runId),
    });
  });

  return router;
}
