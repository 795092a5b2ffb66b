/**
 * Deployments in the API's words: turn a validated request into a run (checked against the
 * environment policy, the project's landing zone and configuration; idempotent by key and by
 * image), read a run's status, cancel one. Temporal is reached through TemporalRuns only.
 */
import { createHash } from 'node:crypto';
import type { PlatformConfig } from '../../shared/config';
import {
  DEPLOY_WORKFLOW_TYPE,
  deployWorkflowId,
  statusQuery,
  TERMINAL_STATUSES,
  type DeploymentStatusView,
  type DeployInput,
} from '../../shared/contracts/deploy';
import type { DeployRequest, EnvironmentPolicy } from '../../shared/domain';
import { toDeployRequest, type DeploymentRequestBody } from '../../shared/schemas/deployment';
import { scanEvidence } from '../../shared/scan-evidence';
import { MAX_SCAN_FINDINGS } from '../../shared/schemas/trivy';
import { DeployEnvironment, DeployIdempotencyKey, DeployProject, DeployService, DeployStage, DeployStatus } from '../../shared/search-attributes';
import type { ConfigurationRepository, IdempotencyRepository, LandingZoneRepository } from '../../shared/store';
import { ConflictError, InputError, NotFoundError, UnprocessableError, type FieldError } from '../errors';
import { queryValue, type RunSnapshot, type TemporalRuns } from '../temporal-runs';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const PATH = /^\/[A-Za-z0-9._~\-/]*$/;

export type DeploymentSnapshot = RunSnapshot<DeploymentStatusView>;

/** What a start request became. */
export type StartOutcome =
  /** A run was started (created) or an open run of the same image was returned. */
  | { kind: 'started'; created: boolean; workflowId: string; runId: string; requestMatches: boolean; snapshot?: DeploymentSnapshot }
  /** The Idempotency-Key was used before for this request: its run, as it is now. */
  | { kind: 'replayed'; snapshot: DeploymentSnapshot };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface DeploymentServiceDeps {
  config: PlatformConfig;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
  configuration: ConfigurationRepository;
  idempotency: IdempotencyRepository;
}

export class DeploymentService {
  constructor(private readonly deps: DeploymentServiceDeps) {}

  /** Hash of an Idempotency-Key, scoped to the caller so two callers' keys never collide. */
  static idempotencyKeyHash(subject: string, key: string): string {
    return sha256(`${subject}\n${key}`);
  }

  /** Identifies a request body, so a reused Idempotency-Key with a different body is refused. */
  static fingerprint(request: DeployRequest): string {
    return sha256(JSON.stringify(request));
  }

  /** Checks the request against policy, landing zone and configuration; starts (or finds) its run. */
  async start(body: DeploymentRequestBody, caller: string, idempotencyKey: string | undefined): Promise<StartOutcome> {
    const { request, policy } = this.resolve(body, caller, idempotencyKey);
    const keyHash = idempotencyKey ? DeploymentService.idempotencyKeyHash(caller, idempotencyKey) : undefined;
    const fingerprint = DeploymentService.fingerprint(request);
    if (keyHash) {
      // The key is claimed for one body before anything starts, so concurrent requests agree.
      const claim = this.deps.idempotency.claim(keyHash, fingerprint, deployWorkflowId(request));
      if (claim.fingerprint !== fingerprint) {
        throw new ConflictError('this Idempotency-Key was already used for a different request; use a new key for a new deployment', { deploymentId: claim.workflowId });
      }
      // Keys claimed before the claim table existed are found through visibility, as before.
      const existing = claim.claimedNow ? undefined : await this.deps.runs.findOne(`${DeployIdempotencyKey.name} = ${queryValue(keyHash)}`);
      if (existing && existing.memo.requestFingerprint !== fingerprint) {
        throw new ConflictError('this Idempotency-Key was already used for a different request; use a new key for a new deployment', { deploymentId: existing.workflowId });
      }
      const snapshot = existing && (await this.snapshot(existing.workflowId, existing.runId));
      if (snapshot) return { kind: 'replayed', snapshot };
      // Not visible yet (a concurrent request is starting it): the start below meets the same run.
    }
    const input: DeployInput = { request, policy, links: { apiUrl: this.deps.config.api.publicBaseUrl } };
    const started = await this.deps.runs.start(DEPLOY_WORKFLOW_TYPE, {
      workflowId: deployWorkflowId(request),
      args: [input],
      whenOpen: 'use-existing',
      memo: { requestFingerprint: fingerprint },
      searchAttributes: [
        { key: DeployProject, value: request.project },
        { key: DeployService, value: request.service },
        { key: DeployEnvironment, value: request.environment },
        { key: DeployStage, value: 'scan' },
        { key: DeployStatus, value: 'running' },
        ...(keyHash ? [{ key: DeployIdempotencyKey, value: keyHash }] : []),
      ],
      summary: `Deploy ${request.service} to ${request.project}/${request.environment}`,
      details: [
        `**Image** \`${request.image.reference}\``,
        `**Route** ${request.route.host}${request.route.path} → port ${request.port}, ${request.replicas} replicas`,
        `**Requested by** ${request.requester ?? request.requestedBy}`,
        `**Policy** approval ${policy.approval.required ? `required within ${Math.round(policy.approval.deadlineMs / 3_600_000)} h` : 'not required'}, blocks ${policy.scan.blockSeverities.join('/') || 'nothing'}`,
      ].join('\n\n'),
    });
    return {
      kind: 'started',
      created: started.created,
      workflowId: started.workflowId,
      runId: started.runId,
      requestMatches: started.memo.requestFingerprint === fingerprint,
      ...(started.created ? {} : { snapshot: await this.snapshot(started.workflowId, started.runId) }),
    };
  }

  /** The latest run under the id (or the given run); undefined when there is none. */
  snapshot(deploymentId: string, runId?: string): Promise<DeploymentSnapshot | undefined> {
    return this.deps.runs.snapshot(deploymentId, statusQuery, { ...(runId ? { runId } : {}), type: DEPLOY_WORKFLOW_TYPE });
  }

  async status(deploymentId: string): Promise<DeploymentSnapshot> {
    const snapshot = await this.snapshot(deploymentId);
    if (!snapshot) throw new NotFoundError(`no deployment "${deploymentId}"`);
    return snapshot;
  }

  /** Cancels the open run; compensation undoes what it applied. */
  async cancel(deploymentId: string): Promise<DeploymentSnapshot> {
    const snapshot = await this.status(deploymentId);
    if (TERMINAL_STATUSES.includes(snapshot.status)) {
      throw new ConflictError(`deployment "${deploymentId}" has already ended with status ${snapshot.status}`, { deploymentStatus: snapshot.status });
    }
    await this.deps.runs.cancel(snapshot.workflowId, snapshot.runId);
    return snapshot;
  }

  /** The workflow's request and policy, or the 4xx that says why the request cannot be deployed. */
  private resolve(body: DeploymentRequestBody, caller: string, idempotencyKey: string | undefined): { request: DeployRequest; policy: EnvironmentPolicy } {
    const { config, landingZones, configuration } = this.deps;
    const problems: FieldError[] = [];
    const policy = config.environments[body.environment];
    if (!policy) {
      problems.push({ field: 'environment', message: `"${body.environment}" is not an environment; known: ${Object.keys(config.environments).join(', ')}` });
    } else if (body.replicas > policy.maxReplicas) {
      problems.push({ field: 'replicas', message: `at most ${policy.maxReplicas} replicas in ${policy.name}` });
    }
    const findings = body.scanReport?.Results?.reduce((n, r) => n + (r.Vulnerabilities?.length ?? 0), 0) ?? 0;
    if (findings > MAX_SCAN_FINDINGS) problems.push({ field: 'scanReport', message: `more than ${MAX_SCAN_FINDINGS} findings` });
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      problems.push({ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters without spaces' });
    }
    if (problems.length > 0 || !policy) throw new InputError('the request cannot be deployed as given', problems);

    const landingZone = landingZones.find(body.project);
    if (!landingZone) {
      throw new UnprocessableError(`project "${body.project}" has no landing zone: create one with POST /v1/landing-zones first`, [{ field: 'project', message: 'no landing zone' }]);
    }
    if (landingZone.state === 'decommissioning') {
      throw new ConflictError(`the landing zone of "${body.project}" is being decommissioned: no new deployments`, { project: body.project });
    }
    if (!landingZone.environments.includes(body.environment)) {
      throw new UnprocessableError(`the landing zone of "${body.project}" has no ${body.environment} environment (it has ${landingZone.environments.join(', ')})`, [
        { field: 'environment', message: `not in the landing zone of ${body.project}` },
      ]);
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
    const request = toDeployRequest(body, caller, { port, ...(healthPath ? { healthPath } : {}) });
    this.checkScanEvidence(request, policy);
    return { request, policy };
  }

  /**
   * Where the worker judges the CI's report (SCANNER=report) and the environment requires a scan,
   * a missing report, or one not about this image, is refused now rather than failing the run.
   */
  private checkScanEvidence(request: DeployRequest, policy: EnvironmentPolicy): void {
    if (!policy.scan.required || this.deps.config.providers.scanner !== 'report') return;
    if (!request.scanReport) {
      throw new UnprocessableError(`${policy.name} requires an image scan: attach the image's Trivy report as scanReport`, [{ field: 'scanReport', message: `required in ${policy.name}` }]);
    }
    const evidence = scanEvidence(request.image, request.scanReport);
    if (evidence.kind !== 'matches') throw new UnprocessableError(`the scan report cannot be used in ${policy.name}: ${evidence.reason}`, [{ field: 'scanReport', message: evidence.reason }]);
  }
}
