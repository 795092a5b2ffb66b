/**
 * `POST /v1/deployments` starts a deployment; `GET /v1/deployments/{id}` reports it;
 * `POST /v1/deployments/{id}/cancel` cancels it. Each handler: parse, authorise, call, present.
 */
import { Router, type Request, type Response } from 'express';
import type { PlatformConfig } from '../../shared/config';
import { deploymentRequestSchema, type DeploymentRequestBody } from '../../shared/schemas/deployment';
import type { Audit, AuditNote } from '../audit';
import { assertMayDeploy, principalOf } from '../auth';
import { NotFoundError } from '../errors';
import type { DeploymentService, DeploymentSnapshot } from '../services/deployments';
import type { TemporalRuns } from '../temporal-runs';
import { parsedBody, validateBody } from '../validate';

const DEPLOYMENT_ID = /^deploy\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-f0-9]{16}$/;

export interface DeploymentRoutesDeps {
  config: PlatformConfig;
  deployments: DeploymentService;
  runs: TemporalRuns;
  audit: Audit;
}

export function deploymentRoutes({ config, deployments, runs, audit }: DeploymentRoutesDeps): Router {
  const router = Router();
  const links = (workflowId: string, runId: string) => ({
    self: `${config.api.publicBaseUrl}/v1/deployments/${workflowId}`,
    cancel: `${config.api.publicBaseUrl}/v1/deployments/${workflowId}/cancel`,
    temporalUi: runs.uiLink(workflowId, runId),
  });
  const present = (snapshot: DeploymentSnapshot) => ({
    ...(snapshot.view ?? { status: snapshot.status, detailsUnavailable: 'no worker answered the status query; showing what Temporal records' }),
    deploymentId: snapshot.workflowId,
    workflowId: snapshot.workflowId,
    runId: snapshot.runId,
    links: links(snapshot.workflowId, snapshot.runId),
  });

  /** The project is the id's second segment, so authorisation happens before any Temporal call. */
  const authorisedId = (id: string | undefined, res: Response): string => {
    if (!id || !DEPLOYMENT_ID.test(id)) throw new NotFoundError(`no deployment "${id ?? ''}"`);
    assertMayDeploy(principalOf(res), id.split('.')[1] ?? '');
    return id;
  };

  /** The names in a deployment id (`deploy.<project>.<service>.<environment>.<digest>`), for the audit log. */
  const idTarget = (id: string) => {
    const [, project, service, environment] = DEPLOYMENT_ID.test(id) ? id.split('.') : [];
    return { deploymentId: id.slice(0, 200), project, service, environment };
  };

  const start = async (req: Request, res: Response, note: AuditNote): Promise<void> => {
    const body = parsedBody<DeploymentRequestBody>(res);
    const principal = principalOf(res);
    assertMayDeploy(principal, body.project);
    const outcome = await deployments.start(body, principal.subject, req.get('idempotency-key'));
    if (outcome.kind === 'replayed') {
      note.run(outcome.snapshot.workflowId, outcome.snapshot.runId);
      note.duplicate();
      res.status(200).set('Idempotent-Replayed', 'true').json({ ...present(outcome.snapshot), created: false });
      return;
    }
    const { created, workflowId, runId, snapshot, requestMatches } = outcome;
    note.run(workflowId, runId);
    if (!created) note.duplicate();
    res
      .status(created ? 202 : 200)
      .location(links(workflowId, runId).self)
      .json({
        ...(snapshot ? present(snapshot) : { deploymentId: workflowId, workflowId, runId, status: 'running', links: links(workflowId, runId) }),
        created,
        ...(requestMatches ? {} : { note: 'a run for this image is already open with different parameters; that run is returned unchanged' }),
      });
  };

  router.post('/deployments', validateBody(deploymentRequestSchema), async (req, res) => {
    const { project, service, environment } = parsedBody<DeploymentRequestBody>(res);
    await audit.action(req, res, 'deployment.start', { project, service, environment }, (note) => start(req, res, note));
  });

  router.get('/deployments/:id', async (req, res) => {
    res.json(present(await deployments.status(authorisedId(req.params.id, res))));
  });

  router.post('/deployments/:id/cancel', async (req, res) => {
    await audit.action(req, res, 'deployment.cancel', idTarget(req.params.id), async (note) => {
      const id = authorisedId(req.params.id, res);
      const snapshot = await deployments.cancel(id);
      note.run(snapshot.workflowId, snapshot.runId);
      res.status(202).json({ deploymentId: id, runId: snapshot.runId, status: 'cancelling', links: links(id, snapshot.runId) });
    });
  });

  return router;
}
