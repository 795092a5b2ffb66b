import { Router, type Response } from 'express';
import type { PlatformConfig } from '../../shared/config';
import { TERMINAL_STATUSES } from '../../shared/contracts/deploy';
import { deploymentRequestSchema, toDeployRequest, type DeploymentRequestBody } from '../../shared/schemas/deployment';
import { MAX_SCAN_FINDINGS } from '../../shared/schemas/trivy';
import type { ConfigurationRepository, LandingZoneRepository } from '../../shared/store';
import { assertMayDeploy, principalOf } from '../auth';
import { DeploymentService, type DeploymentSnapshot } from '../deployments-service';
import { ConflictError, InputError, NotFoundError, UnprocessableError, type FieldError } from '../errors';
import type { TemporalRuns } from '../temporal-runs';
import { parsedBody, validateBody } from '../validate';

const DEPLOYMENT_ID = /^deploy\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-z][-a-z0-9]*\.[a-f0-9]{16}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface DeploymentRoutesDeps {
  config: PlatformConfig;
  deployments: DeploymentService;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
  configuration: ConfigurationRepository;
}

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;

export function deploymentRoutes({ config, deployments, runs, landingZones, configuration }: DeploymentRoutesDeps): Router {
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

  router.post('/deployments', validateBody(deploymentRequestSchema), async (req, res) => {
    const body = parsedBody<DeploymentRequestBody>(res);
    const principal = principalOf(res);
    assertMayDeploy(principal, body.project);

    const problems: FieldError[] = [];
    const policy = config.environments[body.environment];
    if (!policy) {
      problems.push({ field: 'environment', message: `"${body.environment}" is not an environment; known: ${Object.keys(config.environments).join(', ')}` });
    } else if (body.replicas > policy.maxReplicas) {
      problems.push({ field: 'replicas', message: `at most ${policy.maxReplicas} replicas in ${policy.name}` });
    }
    const findings = body.scanReport?.Results?.reduce((n, r) => n + (r.Vulnerabilities?.length ?? 0), 0) ?? 0;
    if (findings > MAX_SCAN_FINDINGS) problems.push({ field: 'scanReport', message: `more than ${MAX_SCAN_FINDINGS} findings` });
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      problems.push({ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters without spaces' });
    }
    if (problems.length > 0 || !policy) throw new InputError('the request cannot be deployed as given', problems);
    const landingZone = landingZones.find(body.project);
    if (!landingZone) {
      throw new UnprocessableError(`project "${body.project}" has no landing zone: create one with POST /v1/landing-zones first`, [
        { field: 'project', message: 'no landing zone' },
      ]);
    }
    if (landingZone.state === 'decommissioning') {
      throw new ConflictError(`the landing zone of "${body.project}" is being decommissioned: no new deployments`, { project: body.project });
    }
    if (!landingZone.environments.includes(body.environment)) {
      throw new UnprocessableError(
        `the landing zone of "${body.project}" has no ${body.environment} environment (it has ${landingZone.environments.join(', ')})`,
        [{ field: 'environment', message: `not in the landing zone of ${body.project}` }],
      );
    }

    // The project's defaults, from its class and configuration (written by its landing zone).
    const settings = new Map(configuration.resolve(landingZone.tenant, body.project, body.environment).map((e) => [e.key, e.value]));
    const port = body.port ?? Number(settings.get('service.port'));
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new InputError('the request cannot be deployed as given', [{ field: 'port', message: `required: the project's configuration has no usable service.port` }]);
    }
    const healthPath = settings.get('probes.readinessPath');
    if (healthPath !== undefined && !PATH.test(healthPath)) {
      throw new UnprocessableError(`the configuration of ${body.project} has an invalid probes.readinessPath "${healthPath}"`, [{ field: 'probes.readinessPath', message: 'not a URL path' }]);
    }
    const request = toDeployRequest(body, principal.subject, { port, ...(healthPath ? { healthPath } : {}) });
    const keyHash = key ? DeploymentService.idempotencyKeyHash(principal.subject, key) : undefined;
    if (keyHash) {
      const existing = await deployments.findByIdempotencyKey(keyHash);
      if (existing && existing.fingerprint !== DeploymentService.fingerprint(request)) {
        throw new ConflictError('this Idempotency-Key was already used for a different request; use a new key for a new deployment', {
          deploymentId: existing.workflowId,
        });
      }
      const snapshot = existing && (await deployments.snapshot(existing.workflowId, existing.runId));
      if (snapshot) {
        res.status(200).set('Idempotent-Replayed', 'true').json({ ...present(snapshot), created: false });
        return;
      }
    }
    const started = await deployments.start(request, policy, keyHash);
    const snapshot: DeploymentSnapshot | undefined = started.created ? undefined : await deployments.snapshot(started.workflowId, started.runId);
    res
      .status(started.created ? 202 : 200)
      .location(links(started.workflowId, started.runId).self)
      .json({
        ...(snapshot ? present(snapshot) : { deploymentId: started.workflowId, workflowId: started.workflowId, runId: started.runId, status: 'running', links: links(started.workflowId, started.runId) }),
        created: started.created,
        ...(started.requestMatches ? {} : { note: 'a run for this image is already open with different parameters; that run is returned unchanged' }),
      });
  });

  router.get('/deployments/:id', async (req, res) => {
    const id = authorisedId(req.params.id, res);
    const snapshot = await deployments.snapshot(id);
    if (!snapshot) throw new NotFoundError(`no deployment "${id}"`);
    res.json(present(snapshot));
  });

  router.post('/deployments/:id/cancel', async (req, res) => {
    const id = authorisedId(req.params.id, res);
    const snapshot = await deployments.snapshot(id);
    if (!snapshot) throw new NotFoundError(`no deployment "${id}"`);
    if (TERMINAL_STATUSES.includes(snapshot.status)) {
      throw new ConflictError(`deployment "${id}" has already ended with status ${snapshot.status}`, { deploymentStatus: snapshot.status });
    }
    await deployments.cancel(snapshot.workflowId, snapshot.runId);
    res.status(202).json({ deploymentId: id, runId: snapshot.runId, status: 'cancelling', links: links(id, snapshot.runId) });
  });

  return router;
}
