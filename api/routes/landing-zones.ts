/**
 * `POST /v1/landing-zones` (platform-admin) starts a landing-zone run for a new project;
 * `GET /v1/landing-zones/{project}` reports its status, resources, state, latest update or
 * decommission, and links; `PATCH` updates it and `DELETE` decommissions it. Each handler: parse,
 * authorise (in the service, which knows the zone's tenant), call, present.
 */
import { Router, type Response } from 'express';
import type { PlatformConfig } from '../../shared/config';
import { landingZoneWorkflowId } from '../../shared/contracts/landing-zone';
import {
  landingZoneDecommissionQuerySchema,
  landingZoneRequestSchema,
  landingZoneUpdateSchema,
  type LandingZoneRequestBody,
  type LandingZoneUpdateBody,
} from '../../shared/schemas/landing-zone';
import type { Audit, AuditNote } from '../audit';
import { principalOf } from '../auth';
import type { LandingZoneService, OperationStart } from '../services/landing-zones';
import type { TemporalRuns } from '../temporal-runs';
import { parsedBody, parseQuery, validateBody } from '../validate';

export interface LandingZoneRoutesDeps {
  config: PlatformConfig;
  landingZones: LandingZoneService;
  runs: TemporalRuns;
  audit: Audit;
}

export function landingZoneRoutes({ config, landingZones, runs, audit }: LandingZoneRoutesDeps): Router {
  const router = Router();
  const links = (project: string, workflowId: string, runId?: string) => ({
    self: `${config.api.publicBaseUrl}/v1/landing-zones/${project}`,
    temporalUi: runs.uiLink(workflowId, runId),
  });
  /** The 202 of an update or decommission (or the 200 of an update with nothing to do). */
  const sendOperation = (res: Response, project: string, operation: 'update' | 'decommission', outcome: OperationStart): void => {
    if (outcome.kind === 'unchanged') {
      res.status(200).json({ project, changed: false, message: 'the landing zone already looks like this; nothing was started' });
      return;
    }
    const { started, approvalRequired, changes, force } = outcome;
    res
      .status(202)
      .location(links(project, started.workflowId).self)
      .json({
        project,
        operation,
        operationId: started.workflowId,
        runId: started.runId,
        status: 'running',
        ...(force !== undefined ? { force } : {}),
        approvalRequired,
        ...(changes ? { changes } : {}),
        links: links(project, started.workflowId, started.runId),
      });
  };

  router.post('/landing-zones', validateBody(landingZoneRequestSchema), async (req, res) => {
    const body = parsedBody<LandingZoneRequestBody>(res);
    await audit.action(req, res, 'landing-zone.create', { tenant: body.tenant, project: body.project }, async (note) => {
      const { started, approvalRequired } = await landingZones.create(body, principalOf(res));
      note.run(started.workflowId, started.runId);
      const project = body.project;
      res.status(202).location(links(project, started.workflowId).self).json({
        project,
        landingZoneId: started.workflowId,
        runId: started.runId,
        status: 'running',
        approvalRequired,
        links: links(project, started.workflowId, started.runId),
      });
    });
  });

  router.get('/landing-zones/:project', async (req, res) => {
    const project = req.params.project;
    const status = await landingZones.status(project, principalOf(res));
    const { view, record } = status;
    const fallback = {
      project,
      status: status.recordedStatus ?? (record ? 'succeeded' : 'running'),
      resources: record?.resources,
      detailsUnavailable: 'no worker answered the status query',
    };
    res.json({
      ...(view ?? fallback),
      // The record is current (updates revise it); the creation run's view is as it was created.
      ...(record ? { environments: record.environments, resources: record.resources } : {}),
      registered: record !== undefined,
      state: record?.state ?? (status.decommissioned ? 'decommissioned' : 'not-registered'),
      ...(status.lastOperation ? { lastOperation: status.lastOperation } : {}),
      links: links(project, landingZoneWorkflowId(project), status.runId ?? record?.runId),
    });
  });

  /** What an operation's outcome tells the audit log. */
  const noted = (note: AuditNote, outcome: OperationStart): OperationStart => {
    if (outcome.kind === 'unchanged') note.duplicate();
    else note.run(outcome.started.workflowId, outcome.started.runId);
    return outcome;
  };

  router.patch('/landing-zones/:project', validateBody(landingZoneUpdateSchema), async (req, res) => {
    const project = req.params.project as string;
    await audit.action(req, res, 'landing-zone.update', { project: project.slice(0, 200) }, async (note) => {
      sendOperation(res, project, 'update', noted(note, await landingZones.update(project, parsedBody<LandingZoneUpdateBody>(res), principalOf(res))));
    });
  });

  router.delete('/landing-zones/:project', async (req, res) => {
    const project = req.params.project as string;
    await audit.action(req, res, 'landing-zone.delete', { project: project.slice(0, 200) }, async (note) => {
      const principal = principalOf(res);
      const query = parseQuery(landingZoneDecommissionQuerySchema, req.query);
      const options = { force: query.force === 'true', ...(query.reason ? { reason: query.reason } : {}) };
      sendOperation(res, project, 'decommission', noted(note, await landingZones.decommission(project, options, principal)));
    });
  });

  return router;
}
