import { workflowInfo } from '@temporalio/workflow';
import {
  landingZoneOperationStatusQuery,
  landingZoneWorkflowId,
  type LandingZoneResources,
  type LandingZoneSpec,
  type LandingZoneUpdateInput,
  type LandingZoneUpdateView,
} from '../../shared/contracts/landing-zone';
import { awaitApprovalIfRequired } from '../shared/approval-gate';
import { compensateAndRethrow } from '../shared/compensation';
import { RunTracker } from '../shared/run-tracker';
import { changes, create, undo } from './operation-activities';
import { landingZoneRunContext } from './run-context';

function describeUpdate(input: LandingZoneUpdateInput): string[] {
  const lines = input.addEnvironments.map((env) => `add environment ${env.name}: namespace ${env.namespace} on ${env.cluster}`);
  if (input.quotaChanged) {
    const q = input.quota;
    lines.push(`quota of every namespace: cpu ${q.requestsCpu}/${q.limitsCpu}, memory ${q.requestsMemory}/${q.limitsMemory}, ${q.pods} pods`);
  }
  return lines;
}

/**
 * Applies the difference between a landing zone and what its update asks for: namespaces for the
 * added environments, the new quota in every namespace when it changed, the added environments'
 * configuration, and the record. Nothing that stays the same is touched. Every step registers its
 * undo first; a failure or cancellation restores the previous state.
 */
export async function landingZoneUpdateWorkflow(input: LandingZoneUpdateInput): Promise<LandingZoneUpdateView> {
  const { project, tenant, current } = input;
  const { workflowId: operationId, runId } = workflowInfo();
  const tracker = new RunTracker<LandingZoneUpdateView>(
    {
      operation: 'update',
      operationId,
      project,
      tenant,
      requestedBy: input.requestedBy,
      summary: describeUpdate(input),
      status: 'running',
      stage: 'openChange',
      startedAt: new Date().toISOString(),
      steps: [],
      approval: { required: input.approval.required },
      compensationErrors: [],
    },
    (s) => [`Update of landing zone ${s.tenant}/${s.project}`, ...s.summary],
  );
  const { gate, saga, key, audit, closeChange, notifyOwners } = landingZoneRunContext(tracker, landingZoneOperationStatusQuery, { rules: input.approval.approvers, requesters: [input.requestedBy] });

  try {
    const change = await tracker.step(
      'openChange',
      () =>
        changes.openOperationChange({
          correlationId: runId,
          shortDescription: `Update landing zone ${tenant}/${project}`,
          description: [`Update the landing zone of project ${project} (tenant ${tenant}):`, ...tracker.view().summary.map((l) => `- ${l}`), `Requested by: ${input.requestedBy}`, `Platform run: ${operationId} (${runId})`].join('\n'),
          approvalRequired: input.approval.required,
          requestedBy: input.requestedBy,
        }),
      (c) => c.number,
    );
    tracker.recordChange(change);
    await awaitApprovalIfRequired(gate, tracker, input.approval, `not required: ${input.approval.reason}`, closeChange);

    // New namespaces for the added environments; the existing ones again only when the quota changed.
    const targets = [
      ...input.addEnvironments.map((env) => ({ env, step: `namespace-add-${env.name}` })),
      ...(input.quotaChanged ? current.environments.map((env) => ({ env, step: `namespace-quota-${env.name}` })) : []),
    ];
    const applied = await tracker.step(
      'namespaces',
      async () => {
        const revisions = new Map<string, string>();
        for (const { env, step } of targets) {
          saga.add(step, () =>
            undo.rollbackManifests({ idempotencyKey: key(step), audit: audit(`Undo ${step} of ${env.namespace}`), location: { cluster: env.cluster, namespace: env.namespace, component: 'namespace' } }),
          );
          const result = await create.applyNamespace({
            idempotencyKey: key(step),
            cluster: env.cluster,
            audit: audit(`${step.startsWith('namespace-add') ? 'Create' : 'Set the quota of'} namespace ${env.namespace} for ${tenant}/${project}`),
            spec: {
              tenant,
              project,
              environment: env.name,
              namespace: env.namespace,
              owners: current.owners,
              quota: input.quota,
              containerDefaults: current.containerDefaults,
              landingZoneId: landingZoneWorkflowId(project),
            },
          });
          revisions.set(env.name, result.revision);
        }
        return revisions;
      },
      (revisions) => `${revisions.size} namespace${revisions.size === 1 ? '' : 's'} applied`,
    );

    if (input.addEnvironments.length > 0) {
      const entries = input.addEnvironments.map((env) => ({ key: 'kubernetes.namespace', value: env.namespace, environment: env.name }));
      saga.add('configuration', () => undo.deleteProjectConfiguration({ tenant, project, entries }));
      await tracker.step(
        'configuration',
        () => create.writeProjectConfiguration({ tenant, project, entries, updatedBy: `landing-zone-update:${operationId}` }),
        (written) => `${written.length} entries`,
      );
    } else {
      tracker.skip('configuration', 'no environment added');
    }

    const spec: LandingZoneSpec = { ...current, environments: [...current.environments, ...input.addEnvironments], quota: input.quota };
    const namespaces = spec.environments.map((env) => {
      const before = input.resources.namespaces.find((n) => n.environment === env.name);
      const revision = applied.get(env.name) ?? before?.revision;
      return { environment: env.name, namespace: env.namespace, ...(revision ? { revision } : {}) };
    });
    const resources: LandingZoneResources = { ...input.resources, namespaces };
    const names = (list: LandingZoneSpec['environments']) => list.map((e) => e.name);
    saga.add('record', () => undo.reviseLandingZone({ project, environments: names(current.environments), spec: current, resources: input.resources }));
    await tracker.step('record', () => create.reviseLandingZone({ project, environments: names(spec.environments), spec, resources }), () => `environments ${names(spec.environments).join(', ')}`);

    await notifyOwners(current.owners, {
      subject: `Your landing zone ${tenant}/${project} was updated`,
      intro: `The landing zone of ${project} was updated:`,
      summary: tracker.view().summary,
      links: [{ label: 'Landing zone status', url: `${input.links.apiUrl}/v1/landing-zones/${project}` }],
      temporalUiUrl: input.links.temporalUiUrl,
    });

    await closeChange('successful', `Landing zone ${tenant}/${project} updated: ${tracker.view().summary.join('; ')}.`);
    tracker.finish('succeeded');
    return tracker.view();
  } catch (error) {
    return await compensateAndRethrow(error, { tracker, saga, closeChange });
  }
}
