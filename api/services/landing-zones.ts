/**
 * Landing zones in the API's words: create one for a new project, report it, update it (add
 * environments, change the quota) and decommission it. Each request is checked against the
 * registered landing zone and the policy here, so a request that cannot be carried out starts
 * nothing; runs are started through TemporalRuns, one creation and one operation at a time per
 * project.
 */
import type { PlatformConfig } from '../../shared/config';
import {
  LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE,
  LANDING_ZONE_UPDATE_WORKFLOW_TYPE,
  LANDING_ZONE_WORKFLOW_TYPE,
  landingZoneOperationStatusQuery,
  landingZoneOperationWorkflowId,
  landingZoneStatusQuery,
  landingZoneWorkflowId,
  type LandingZoneDecommissionInput,
  type LandingZoneInput,
  type LandingZoneOperationView,
  type LandingZoneResources,
  type LandingZoneSpec,
  type LandingZoneStatusView,
  type LandingZoneUpdateInput,
  type Quota,
} from '../../shared/contracts/landing-zone';
import { loadProjectTemplate, PROJECT_CLASSES, TemplateError } from '../../shared/project-templates';
import type { LandingZoneRequestBody, LandingZoneUpdateBody } from '../../shared/schemas/landing-zone';
import { QUOTA_FIELDS } from '../../shared/schemas/quota';
import type { LandingZoneRecord, LandingZoneRepository } from '../../shared/store';
import { assertRole, mayReadLandingZone, type Principal } from '../auth';
import { ConflictError, InputError, NotAllowedError, NotFoundError, type FieldError } from '../errors';
import { landingZoneApproval, landingZoneRunSearchAttributes, placeEnvironments } from '../landing-zone-policy';
import { RunAlreadyOpenError, type Started, type TemporalRuns } from '../temporal-runs';


/** The latest update or decommission of a project, as its run reports it. */
export type OperationSummary = Omit<Partial<LandingZoneOperationView>, 'status'> & { runId: string; status: string };

export interface LandingZoneStatus {
  view: LandingZoneStatusView | undefined;
  /** The creation run's status as Temporal records it, when no worker answered. */
  recordedStatus?: string;
  runId?: string;
  record?: LandingZoneRecord;
  lastOperation?: OperationSummary;
  decommissioned: boolean;
}

export type OperationStart =
  | { kind: 'unchanged' }
  | { kind: 'started'; started: Started; approvalRequired: boolean; changes?: string[]; force?: boolean };

export interface LandingZoneServiceDeps {
  config: PlatformConfig;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
}

function sameQuota(a: Quota, b: Quota): boolean {
  return QUOTA_FIELDS.every((field) => a[field] === b[field]);
}

export class LandingZoneService {
  constructor(private readonly deps: LandingZoneServiceDeps) {}

  /** Starts the creation run (platform-admin); 409 when the project has one already. */
  async create(body: LandingZoneRequestBody, principal: Principal): Promise<{ started: Started; approvalRequired: boolean }> {
    assertRole(principal, ['platform-admin'], 'create landing zones');
    const { config, landingZones, runs } = this.deps;
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
      // One landing zone per project: a second request while the first runs meets it (409); once
      // it has ended, the registered record answers (409), so a project may be requested again
      // only after a run that failed, was rejected or rolled back, or after a decommission.
      const started = await runs.start(LANDING_ZONE_WORKFLOW_TYPE, {
        workflowId: landingZoneWorkflowId(body.project),
        args: [input],
        whenOpen: 'fail',
        searchAttributes: landingZoneRunSearchAttributes(body.project),
        summary: `Landing zone for ${body.tenant}/${body.project}`,
        details: `**Class** ${body.class}\n\n**Environments** ${body.environments.join(', ')}\n\n**Owners** ${body.owners.emails.join(', ')} (${body.owners.group})`,
      });
      return { started, approvalRequired: input.approval.required };
    } catch (error) {
      if (error instanceof RunAlreadyOpenError) {
        throw new ConflictError(`project "${body.project}" already has a landing zone (being created or created)`, { project: body.project });
      }
      throw error;
    }
  }

  /** The creation run's view, the registered record and the latest operation; 404 when there is none. */
  async status(project: string, principal: Principal): Promise<LandingZoneStatus> {
    const { runs, landingZones } = this.deps;
    const record = landingZones.find(project);
    if (!mayReadLandingZone(principal, project, record?.tenant)) throw new NotAllowedError(`${principal.subject} may not read the landing zone of "${project}"`);
    const creation = await runs.snapshot(landingZoneWorkflowId(project), landingZoneStatusQuery);
    if (!creation && !record) throw new NotFoundError(`no landing zone for "${project}"`);
    const lastOperation = await this.lastOperation(project);
    // Read again after the operation's status: an operation that ended has written the record by then.
    const latest = landingZones.find(project);
    return {
      view: creation?.view ?? undefined,
      ...(creation ? { recordedStatus: creation.status, runId: creation.runId } : {}),
      ...(latest ? { record: latest } : {}),
      ...(lastOperation ? { lastOperation } : {}),
      decommissioned: !latest && lastOperation?.operation === 'decommission' && lastOperation.status === 'succeeded',
    };
  }

  /** Starts an update; `unchanged` when the landing zone already looks like the request. */
  async update(project: string, body: LandingZoneUpdateBody, principal: Principal): Promise<OperationStart> {
    const { config } = this.deps;
    const record = this.existing(project, principal, 'update');
    if (record.state === 'decommissioning') throw new ConflictError(`the landing zone of "${record.project}" is being decommissioned`, { project: record.project });
    const current = record.spec;
    if (!current) {
      throw new ConflictError(`the landing zone of "${record.project}" was registered before landing zones kept their spec; it cannot be updated (decommission and create it again)`, {
        project: record.project,
      });
    }
    const added = body.addEnvironments ?? [];
    const { placed, problems } = placeEnvironments(config, record.project, added, 'addEnvironments');
    if (problems.length > 0) throw new InputError('the landing zone cannot be updated as given', problems);
    const existing = added.filter((name) => record.environments.includes(name));
    if (existing.length > 0) {
      throw new ConflictError(`the landing zone of "${record.project}" has ${existing.join(', ')} already (it has ${record.environments.join(', ')})`, { project: record.project });
    }
    const quota: Quota = { ...current.quota, ...body.quota };
    const quotaChanged = !sameQuota(quota, current.quota);
    if (placed.length === 0 && !quotaChanged) return { kind: 'unchanged' };
    await this.assertCreated(record.project);

    const touched = [...added, ...(quotaChanged ? record.environments : [])];
    const input: LandingZoneUpdateInput = { ...this.operationBase(record, principal.subject, current, touched), addEnvironments: placed, quota, quotaChanged };
    const changes = [...placed.map((env) => `add ${env.name} (namespace ${env.namespace})`), ...(quotaChanged ? ['quota'] : [])];
    const started = await this.startOperation(LANDING_ZONE_UPDATE_WORKFLOW_TYPE, record, input, `Update landing zone ${record.tenant}/${record.project}: ${changes.join(', ')}`);
    return { kind: 'started', started, approvalRequired: input.approval.required, changes };
  }

  /** Starts a decommission; refused while deployments of the project are in flight. */
  async decommission(project: string, options: { force: boolean; reason?: string }, principal: Principal): Promise<OperationStart> {
    const { config, runs } = this.deps;
    const record = this.existing(project, principal, 'decommission');
    await this.assertCreated(record.project);
    // Visibility can lag a moment; the workflow looks again once deployments are frozen.
    const inFlight = await runs.openDeployments(record.project);
    if (inFlight.length > 0) {
      throw new ConflictError(`deployment runs of "${record.project}" are in flight: let them finish or cancel them, then decommission`, {
        project: record.project,
        deployments: inFlight.map((r) => r.workflowId),
      });
    }
    // Zones registered before specs were kept: their namespaces follow from the policy; no owners to notify.
    const current: LandingZoneSpec = record.spec ?? {
      owners: { emails: [], group: '' },
      environments: placeEnvironments(config, record.project, record.environments, 'environments').placed,
      quota: { requestsCpu: '0', requestsMemory: '0', limitsCpu: '0', limitsMemory: '0', pods: 0 },
      containerDefaults: { requests: { cpu: '0', memory: '0' }, limits: { cpu: '0', memory: '0' } },
      defaults: { port: 0, readinessPath: '/', livenessPath: '/' },
    };
    const input: LandingZoneDecommissionInput = {
      ...this.operationBase(record, principal.subject, current, record.environments),
      force: options.force,
      ...(options.reason ? { reason: options.reason } : {}),
      creation: { workflowId: record.workflowId, runId: record.runId },
    };
    const started = await this.startOperation(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, record, input, `Decommission landing zone ${record.tenant}/${record.project}${options.force ? ' (forced)' : ''}`);
    return { kind: 'started', started, approvalRequired: input.approval.required, force: options.force };
  }

  /** The latest update or decommission of a project; undefined when there was none. */
  async lastOperation(project: string): Promise<OperationSummary | undefined> {
    const snapshot = await this.deps.runs.snapshot(landingZoneOperationWorkflowId(project), landingZoneOperationStatusQuery);
    if (!snapshot) return undefined;
    if (snapshot.view) return { ...snapshot.view, runId: snapshot.runId };
    return { operation: snapshot.type === LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE ? 'decommission' : 'update', runId: snapshot.runId, status: snapshot.status };
  }

  /** The registered landing zone an operation works on, once the caller may change it. */
  private existing(project: string, principal: Principal, action: string): LandingZoneRecord {
    const record = this.deps.landingZones.find(project);
    if (!record) throw new NotFoundError(`no landing zone for "${project}"`);
    assertRole(principal, ['platform-admin', `tenant-admin:${record.tenant}`], `${action} the landing zone of ${record.project}`);
    return record;
  }

  /** Refuses while the creation run has not ended: it may still roll back what the operation would build on. */
  private async assertCreated(project: string): Promise<void> {
    const description = await this.deps.runs.describe(landingZoneWorkflowId(project));
    if (description?.status.name === 'RUNNING') throw new ConflictError(`the landing zone of "${project}" is still being created; try again once it has finished`, { project });
  }

  /** What every update or decommission input says about the zone, its requester and the policy. */
  private operationBase(record: LandingZoneRecord, requestedBy: string, current: LandingZoneSpec, touched: readonly string[]) {
    const { config } = this.deps;
    return {
      project: record.project,
      tenant: record.tenant,
      projectClass: record.projectClass,
      requestedBy,
      current,
      resources: record.resources as LandingZoneResources,
      approval: landingZoneApproval(config, touched),
      links: { apiUrl: config.api.publicBaseUrl, temporalUiUrl: config.temporal.uiUrl },
    };
  }

  private async startOperation(type: string, record: LandingZoneRecord, args: LandingZoneUpdateInput | LandingZoneDecommissionInput, summary: string): Promise<Started> {
    try {
      return await this.deps.runs.start(type, {
        workflowId: landingZoneOperationWorkflowId(record.project),
        args: [args],
        whenOpen: 'fail',
        searchAttributes: landingZoneRunSearchAttributes(record.project),
        summary,
      });
    } catch (error) {
      if (!(error instanceof RunAlreadyOpenError)) throw error;
      const running = await this.lastOperation(record.project);
      throw new ConflictError(`another ${running?.operation ?? 'operation'} of the landing zone of "${record.project}" is running (run ${running?.runId ?? 'unknown'}); try again once it has finished`, {
        project: record.project,
      });
    }
  }
}
