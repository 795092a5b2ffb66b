/**
 * `PATCH /v1/landing-zones/{project}` (add environments, change the quota) and
 * `DELETE /v1/landing-zones/{project}` (decommission). Both check the request against the
 * registered landing zone here, so a request that cannot be carried out starts nothing, and run
 * as workflows under one id per project: one update or decommission at a time.
 */
import { Router, type Request } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { PlatformConfig } from '../../shared/config';
import {
  LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE,
  LANDING_ZONE_UPDATE_WORKFLOW_TYPE,
  landingZoneOperationStatusQuery,
  landingZoneOperationWorkflowId,
  landingZoneWorkflowId,
  type LandingZoneDecommissionInput,
  type LandingZoneOperationView,
  type LandingZoneResources,
  type LandingZoneSpec,
  type LandingZoneUpdateInput,
  type Quota,
} from '../../shared/contracts/landing-zone';
import { landingZoneDecommissionQuerySchema, landingZoneUpdateSchema, type LandingZoneUpdateBody } from '../../shared/schemas/landing-zone';
import { DeployStatus } from '../../shared/search-attributes';
import type { LandingZoneRecord, LandingZoneRepository } from '../../shared/store';
import { assertRole, principalOf, type Principal } from '../auth';
import type { DeploymentRuns } from '../../activities/ports/deployment-runs';
import { ConflictError, InputError, NotFoundError, fieldErrors } from '../errors';
import { landingZoneApproval, landingZoneRunSearchAttributes, placeEnvironments } from '../landing-zone-policy';
import type { TemporalRuns } from '../temporal-runs';
import { parsedBody, validateBody } from '../validate';

export interface LandingZoneOperationDeps {
  config: PlatformConfig;
  client: Client;
  runs: TemporalRuns;
  landingZones: LandingZoneRepository;
  deploymentRuns: DeploymentRuns;
  taskQueue: string;
}

const QUOTA_FIELDS = ['requestsCpu', 'requestsMemory', 'limitsCpu', 'limitsMemory', 'pods'] as const;

function sameQuota(a: Quota, b: Quota): boolean {
  return QUOTA_FIELDS.every((field) => a[field] === b[field]);
}

/** The registered landing zone an operation works on, or the reason there is none to work on. */
function existingZone(landingZones: LandingZoneRepository, project: string): LandingZoneRecord {
  const record = landingZones.find(project);
  if (!record) throw new NotFoundError(`no landing zone for "${project}"`);
  return record;
}

function authorise(principal: Principal, record: LandingZoneRecord, action: string): void {
  assertRole(principal, ['platform-admin', `tenant-admin:${record.tenant}`], `${action} the landing zone of ${record.project}`);
}

/** What every update or decommission input says about the zone, its requester and the policy. */
function operationBase(config: PlatformConfig, record: LandingZoneRecord, requestedBy: string, current: LandingZoneSpec, touched: readonly string[]) {
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

/** The latest update or decommission of a project, as its run reports it; undefined when there was none. */
export type OperationSummary = Omit<Partial<LandingZoneOperationView>, 'status'> & { runId: string; status: string };

export async function lastOperation(client: Client, project: string): Promise<OperationSummary | undefined> {
  try {
    const handle = client.workflow.getHandle(landingZoneOperationWorkflowId(project));
    const description = await handle.describe();
    const pinned = client.workflow.getHandle(description.workflowId, description.runId);
    const view = await client.withDeadline(Date.now() + 5_000, () => pinned.query(landingZoneOperationStatusQuery)).catch(() => undefined);
    const operation = description.type === LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE ? 'decommission' : 'update';
    return view ? { ...view, runId: description.runId } : { operation, runId: description.runId, status: description.typedSearchAttributes.get(DeployStatus) ?? description.status.name.toLowerCase() };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

export function landingZoneOperationRoutes({ config, client, runs, landingZones, deploymentRuns, taskQueue }: LandingZoneOperationDeps): Router {
  const router = Router();
  const links = (project: string, workflowId: string, runId: string) => ({
    self: `${config.api.publicBaseUrl}/v1/landing-zones/${project}`,
    temporalUi: runs.uiLink(workflowId, runId),
  });

  /** Refuses while the creation run has not ended: it may still roll back what the operation would build on. */
  const assertCreated = async (project: string): Promise<void> => {
    const description = await client.workflow.getHandle(landingZoneWorkflowId(project)).describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
    if (description?.status.name === 'RUNNING') throw new ConflictError(`the landing zone of "${project}" is still being created; try again once it has finished`, { project });
  };

  const start = async (type: string, record: LandingZoneRecord, args: LandingZoneUpdateInput | LandingZoneDecommissionInput, summary: string) => {
    const workflowId = landingZoneOperationWorkflowId(record.project);
    try {
      return await client.workflow.start(type, {
        taskQueue,
        workflowId,
        args: [args],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: landingZoneRunSearchAttributes(record.project),
        staticSummary: summary,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const running = await lastOperation(client, record.project);
        throw new ConflictError(`another ${running?.operation ?? 'operation'} of the landing zone of "${record.project}" is running (run ${running?.runId ?? 'unknown'}); try again once it has finished`, {
          project: record.project,
        });
      }
      throw error;
    }
  };

  router.patch('/landing-zones/:project', validateBody(landingZoneUpdateSchema), async (req, res) => {
    const principal = principalOf(res);
    const record = existingZone(landingZones, req.params.project as string);
    authorise(principal, record, 'update');
    const body = parsedBody<LandingZoneUpdateBody>(res);
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
    if (placed.length === 0 && !quotaChanged) {
      res.status(200).json({ project: record.project, changed: false, message: 'the landing zone already looks like this; nothing was started' });
      return;
    }
    await assertCreated(record.project);

    const touched = [...added, ...(quotaChanged ? record.environments : [])];
    const input: LandingZoneUpdateInput = {
      ...operationBase(config, record, principal.subject, current, touched),
      addEnvironments: placed,
      quota,
      quotaChanged,
    };
    const changes = [...placed.map((env) => `add ${env.name} (namespace ${env.namespace})`), ...(quotaChanged ? ['quota'] : [])];
    const handle = await start(LANDING_ZONE_UPDATE_WORKFLOW_TYPE, record, input, `Update landing zone ${record.tenant}/${record.project}: ${changes.join(', ')}`);
    res.status(202).location(links(record.project, handle.workflowId, handle.firstExecutionRunId).self).json({
      project: record.project,
      operation: 'update',
      operationId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      status: 'running',
      approvalRequired: input.approval.required,
      changes,
      links: links(record.project, handle.workflowId, handle.firstExecutionRunId),
    });
  });

  router.delete('/landing-zones/:project', async (req: Request, res) => {
    const principal = principalOf(res);
    const record = existingZone(landingZones, req.params.project as string);
    authorise(principal, record, 'decommission');
    const query = landingZoneDecommissionQuerySchema.safeParse(req.query);
    if (!query.success) throw new InputError('invalid query parameters', fieldErrors(query.error));
    const force = query.data.force === 'true';
    await assertCreated(record.project);

    // Visibility can lag a moment; the workflow looks again once deployments are frozen.
    const inFlight = await deploymentRuns.inFlight(record.project);
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
      ...operationBase(config, record, principal.subject, current, record.environments),
      force,
      ...(query.data.reason ? { reason: query.data.reason } : {}),
      creation: { workflowId: record.workflowId, runId: record.runId },
    };
    const handle = await start(LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE, record, input, `Decommission landing zone ${record.tenant}/${record.project}${force ? ' (forced)' : ''}`);
    res.status(202).location(links(record.project, handle.workflowId, handle.firstExecutionRunId).self).json({
      project: record.project,
      operation: 'decommission',
      operationId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      status: 'running',
      force,
      approvalRequired: input.approval.required,
      links: links(record.project, handle.workflowId, handle.firstExecutionRunId),
    });
  });

  return router;
}
