import { ApplicationFailure, CancellationScope, log, workflowInfo } from '@temporalio/workflow';
import {
  landingZoneOperationStatusQuery,
  type LandingZoneDecommissionInput,
  type LandingZoneDecommissionView,
} from '../../shared/contracts/landing-zone';
import { ErrorType } from '../../shared/errors';
import { awaitApprovalIfRequired } from '../shared/approval-gate';
import { compensateAndRethrow } from '../shared/compensation';
import { describeFailure, RunTracker } from '../shared/run-tracker';
import { changes, create, undo } from './operation-activities';
import { landingZoneRunContext } from './run-context';

/**
 * Removes a landing zone. Reversible steps first, each with its undo: stop new deployments
 * (freeze), check nothing is deployed or in flight (refuse unless forced), empty the services
 * (forced only) and the namespaces. Then the image repository, whose deletion is the point of no
 * return: from there on the run only goes forward (revoke the CI token, delete the project's
 * configuration, archive its source repository, remove the record, notify). Every step is
 * idempotent, so after a failure past that point `DELETE` again finishes the job.
 */
export async function landingZoneDecommissionWorkflow(input: LandingZoneDecommissionInput): Promise<LandingZoneDecommissionView> {
  const { project, tenant, current, resources, force } = input;
  const { workflowId: operationId, runId } = workflowInfo();
  const tracker = new RunTracker<LandingZoneDecommissionView>(
    {
      operation: 'decommission',
      operationId,
      project,
      tenant,
      requestedBy: input.requestedBy,
      force,
      deployedServices: [],
      summary: [],
      status: 'running',
      stage: 'openChange',
      startedAt: new Date().toISOString(),
      steps: [],
      approval: { required: input.approval.required },
      compensationErrors: [],
    },
    (s) => [`Decommission of landing zone ${s.tenant}/${s.project}${s.force ? ' (forced)' : ''}`, ...s.summary],
  );
  const { gate, saga, key, audit, closeChange, notifyOwners } = landingZoneRunContext(tracker, landingZoneOperationStatusQuery, { rules: input.approval.approvers, requesters: [input.requestedBy] });
  const done = (line: string): void => tracker.patch((s) => s.summary.push(line));
  const namespaces = current.environments.map((env) => ({ cluster: env.cluster, namespace: env.namespace }));
  let pastPointOfNoReturn = false;

  try {
    const change = await tracker.step(
      'openChange',
      () =>
        changes.openOperationChange({
          correlationId: runId,
          shortDescription: `Decommission landing zone ${tenant}/${project}`,
          description: [
            `Decommission the landing zone of project ${project} (tenant ${tenant})${force ? ', forced: deployed services are removed too' : ''}.`,
            `Namespaces: ${namespaces.map((n) => `${n.namespace} on ${n.cluster}`).join(', ')}`,
            ...(input.reason ? [`Reason: ${input.reason}`] : []),
            `Requested by: ${input.requestedBy}`,
            `Platform run: ${operationId} (${runId})`,
          ].join('\n'),
          approvalRequired: input.approval.required,
          requestedBy: input.requestedBy,
        }),
      (c) => c.number,
    );
    tracker.recordChange(change);
    await awaitApprovalIfRequired(gate, tracker, input.approval, `not required: ${input.approval.reason}`, closeChange);

    saga.add('freeze', () => undo.setLandingZoneState({ project, state: 'active' }));
    await tracker.step('freeze', () => create.setLandingZoneState({ project, state: 'decommissioning' }), () => 'new deployments are refused');

    // After the freeze, so no deployment can start between this look and the removal.
    const found = await tracker.step(
      'inspect',
      () => create.inspectLandingZone({ project, namespaces }),
      (f) => `${f.services.length} services deployed, ${f.inFlight.length} deployment runs in flight`,
    );
    tracker.patch((s) => (s.deployedServices = found.services.map(({ namespace, service }) => ({ namespace, service }))));
    if (found.inFlight.length > 0) {
      throw ApplicationFailure.create({
        type: ErrorType.LandingZoneInUse,
        nonRetryable: true,
        message: `deployment runs of ${project} are in flight (${found.inFlight.map((r) => r.workflowId).join(', ')}): let them finish or cancel them, then decommission again`,
      });
    }
    if (found.services.length > 0 && !force) {
      throw ApplicationFailure.create({
        type: ErrorType.LandingZoneInUse,
        nonRetryable: true,
        message: `services are deployed in the landing zone (${found.services.map((s) => `${s.namespace}/${s.service}`).join(', ')}): remove them first, or decommission with force=true to remove them too`,
      });
    }

    if (found.services.length > 0) {
      await tracker.step(
        'services',
        async () => {
          for (const { cluster, namespace, service } of found.services) {
            for (const component of ['mesh', 'app'] as const) {
              const step = `remove-${namespace}-${service}-${component}`;
              saga.add(step, () =>
                undo.rollbackManifests({ idempotencyKey: key(step), audit: audit(`Restore ${namespace}/${service} (${component})`), location: { cluster, namespace, service, component } }),
              );
              await create.clearLocation({
                idempotencyKey: key(step),
                location: { cluster, namespace, service, component },
                audit: audit(`Remove ${namespace}/${service} (${component}): landing zone ${project} decommissioned`),
              });
            }
          }
        },
        () => `${found.services.length} services removed`,
      );
      done(`removed services ${found.services.map((s) => `${s.namespace}/${s.service}`).join(', ')}`);
    } else {
      tracker.skip('services', 'no service is deployed');
    }

    await tracker.step(
      'namespaces',
      async () => {
        for (const { cluster, namespace } of namespaces) {
          const step = `remove-namespace-${namespace}`;
          saga.add(step, () =>
            undo.rollbackManifests({ idempotencyKey: key(step), audit: audit(`Restore namespace ${namespace}`), location: { cluster, namespace, component: 'namespace' } }),
          );
          await create.clearLocation({
            idempotencyKey: key(step),
            location: { cluster, namespace, component: 'namespace' },
            audit: audit(`Remove namespace ${namespace}: landing zone ${project} decommissioned`),
          });
        }
      },
      () => namespaces.map((n) => n.namespace).join(', '),
    );
    done(`removed namespaces ${namespaces.map((n) => n.namespace).join(', ')}`);

    // Without force this refuses (and everything above is restored) while the repository holds images.
    const registry = await tracker.step(
      'imageRepository',
      () => create.deleteImageRepository({ tenant, project, force, idempotencyKey: key('imageRepository') }),
      (r) => (r.deleted ? 'deleted' : 'already gone'),
    );
    saga.pointOfNoReturn();
    pastPointOfNoReturn = true;
    done(`image repository ${resources.imageRepository?.name ?? `${tenant}/${project}`} ${registry.deleted ? 'deleted' : 'already gone'}`);

    await tracker.step('credentials', () => create.revokeProjectToken({ tenant, project, idempotencyKey: `${input.creation.workflowId}/${input.creation.runId}/credentials` }), () => 'revoked');
    done('CI token revoked');
    const deleted = await tracker.step('configuration', () => create.deleteAllProjectConfiguration({ tenant, project }), (n) => `${n} entries deleted`);
    done(`${deleted} configuration entries deleted`);
    const archived = await tracker.step(
      'sourceRepository',
      () => create.archiveSourceRepository({ tenant, project, idempotencyKey: key('sourceRepository') }),
      (a) => (a.archived ? `archived at ${a.location}` : 'already gone'),
    );
    done(archived.archived ? `source repository archived at ${archived.location}` : 'source repository already gone');
    await tracker.step('unregister', () => create.unregisterLandingZone({ project, runId: input.creation.runId }), () => 'the project may be created again');

    if (current.owners.emails.length === 0) tracker.skip('notify', 'the landing zone records no owners');
    else {
      await notifyOwners(current.owners, {
        subject: `Your landing zone ${tenant}/${project} was decommissioned`,
        intro: `The landing zone of ${project} was decommissioned${input.reason ? ` (${input.reason})` : ''}:`,
        summary: tracker.view().summary,
        links: [],
        temporalUiUrl: input.links.temporalUiUrl,
      });
    }

    await closeChange('successful', `Landing zone ${tenant}/${project} decommissioned: ${tracker.view().summary.join('; ')}.`);
    tracker.finish('succeeded');
    return tracker.view();
  } catch (error) {
    if (!pastPointOfNoReturn) return await compensateAndRethrow(error, { tracker, saga, closeChange });
    // Nothing to restore: the repository is gone. Say where it stopped; a new DELETE resumes (every step is idempotent).
    tracker.recordError(error);
    await CancellationScope.nonCancellable(async () => {
      const reason = describeFailure(error);
      try {
        await closeChange('unsuccessful', `Stopped past the point of no return at ${tracker.view().stage}: ${reason.type}: ${reason.message}. Done so far: ${tracker.view().summary.join('; ')}. Request the decommission again to finish it.`);
      } catch (closeError) {
        log.error('could not close the change after a failure', { error: String(closeError) });
      }
    });
    tracker.finish('failed');
    throw error;
  }
}
