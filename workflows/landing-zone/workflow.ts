import { workflowInfo } from '@temporalio/workflow';
import {
  landingZoneStatusQuery,
  type LandingZoneInput,
  type LandingZoneStatusView,
} from '../../shared/contracts/landing-zone';
import { awaitApprovalIfRequired } from '../shared/approval-gate';
import { compensateAndRethrow } from '../shared/compensation';
import { RunTracker } from '../shared/run-tracker';
import { changes, create, notifying, undo } from './operation-activities';
import { landingZoneRunContext } from './run-context';

function newStatus(input: LandingZoneInput, landingZoneId: string): LandingZoneStatusView {
  const { request } = input;
  return {
    landingZoneId,
    project: request.project,
    tenant: request.tenant,
    projectClass: request.projectClass,
    environments: input.environments.map((e) => e.name),
    requestedBy: request.requestedBy,
    status: 'running',
    stage: 'openChange',
    startedAt: new Date().toISOString(),
    steps: [],
    approval: { required: input.approval.required },
    resources: { namespaces: [], configurationKeys: [] },
    compensationErrors: [],
  };
}

/**
 * Creates a project's landing zone: a change (approved when the policy asks), one namespace per
 * environment, an image repository, the project's configuration, a source repository from its
 * class template, a CI token, and a notification to the owners. Every step registers its undo
 * before it runs; a failure or cancellation undoes them in reverse order.
 */
export async function landingZoneWorkflow(input: LandingZoneInput): Promise<LandingZoneStatusView> {
  const { request } = input;
  const { workflowId: landingZoneId } = workflowInfo();
  const tracker = new RunTracker(newStatus(input, landingZoneId), (s) => [
    `${s.projectClass} project ${s.tenant}/${s.project}: ${s.environments.join(', ')}`,
    `[Status in the platform API](${input.links.apiUrl}/v1/landing-zones/${s.project})`,
  ]);
  const { runId, gate, saga, key, audit, closeChange } = landingZoneRunContext(tracker, landingZoneStatusQuery, { rules: input.approval.approvers, requesters: [input.request.requestedBy] });
  const { tenant, project } = request;

  try {
    const change = await tracker.step(
      'openChange',
      () => changes.openLandingZoneChange({ correlationId: runId, landingZoneId, input }),
      (c) => c.number,
    );
    tracker.recordChange(change);
    await awaitApprovalIfRequired(gate, tracker, input.approval, `not required: ${input.approval.reason}`, closeChange);

    const namespaces = await tracker.step(
      'namespaces',
      async () => {
        const created: LandingZoneStatusView['resources']['namespaces'] = [];
        for (const env of input.environments) {
          const step = `namespace-${env.name}`;
          saga.add(step, () =>
            undo.rollbackManifests({ idempotencyKey: key(step), audit: audit(`Remove namespace ${env.namespace}`), location: { cluster: env.cluster, namespace: env.namespace, component: 'namespace' } }),
          );
          const result = await create.applyNamespace({
            idempotencyKey: key(step),
            cluster: env.cluster,
            audit: audit(`Create namespace ${env.namespace} for ${tenant}/${project}`),
            spec: {
              tenant,
              project,
              environment: env.name,
              namespace: env.namespace,
              owners: request.owners,
              quota: input.quota,
              containerDefaults: input.containerDefaults,
              landingZoneId,
            },
          });
          created.push({ environment: env.name, namespace: env.namespace, revision: result.revision });
        }
        return created;
      },
      (list) => list.map((n) => n.namespace).join(', '),
    );
    tracker.patch((s) => (s.resources.namespaces = namespaces));

    // Only a repository this run created is deleted by the undo (a retried create reports its own).
    saga.add('imageRepository', () => undo.deleteImageRepository({ tenant, project, idempotencyKey: key('imageRepository'), createdBy: key('imageRepository') }));
    const registry = await tracker.step('imageRepository', () => create.ensureImageRepository({ tenant, project, idempotencyKey: key('imageRepository') }), (r) => r.uri);
    tracker.patch((s) => (s.resources.imageRepository = { name: registry.name, uri: registry.uri }));

    const entries = [
      { key: 'project.class', value: request.projectClass },
      { key: 'image.repository', value: registry.uri },
      { key: 'service.port', value: String(input.defaults.port) },
      { key: 'probes.readinessPath', value: input.defaults.readinessPath },
      { key: 'probes.livenessPath', value: input.defaults.livenessPath },
      ...input.environments.map((env) => ({ key: 'kubernetes.namespace', value: env.namespace, environment: env.name })),
    ];
    saga.add('configuration', () => undo.deleteProjectConfiguration({ tenant, project, entries }));
    const keys = await tracker.step(
      'configuration',
      () => create.writeProjectConfiguration({ tenant, project, entries, updatedBy: `landing-zone:${landingZoneId}` }),
      (written) => `${written.length} entries`,
    );
    tracker.patch((s) => (s.resources.configurationKeys = keys));

    saga.add('sourceRepository', () => undo.deleteSourceRepository({ tenant, project, idempotencyKey: key('sourceRepository') }));
    const source = await tracker.step(
      'sourceRepository',
      () => create.createSourceRepository({ input, imageRepository: registry.uri, idempotencyKey: key('sourceRepository') }),
      (r) => r.cloneUrl,
    );
    tracker.patch((s) => (s.resources.sourceRepository = source));

    saga.add('credentials', () => undo.revokeProjectToken({ tenant, project, idempotencyKey: key('credentials') }));
    const credentials = await tracker.step(
      'credentials',
      () => create.issueProjectToken({ tenant, project, environments: input.environments.map((e) => e.name), idempotencyKey: key('credentials') }),
      (c) => `token for ${c.subject} stored at ${c.secretRef}`,
    );
    tracker.patch((s) => (s.resources.ciTokenSecretRef = credentials.secretRef));

    saga.add('register', () => undo.unregisterLandingZone({ project, runId }));
    await tracker.step('register', () => create.registerLandingZone({ input, landingZoneId, runId, resources: tracker.view().resources }), () => 'deployments may target it now');

    const notified = await tracker.step(
      'notify',
      () =>
        notifying.notifyOwners({
          idempotencyKey: key('notify'),
          input,
          landingZoneId,
          runId,
          resources: tracker.view().resources,
        }),
      (n) => `message ${n.messageId}`,
    );
    tracker.patch((s) => (s.resources.notification = notified));

    await closeChange('successful', `Landing zone for ${tenant}/${project} created: ${namespaces.map((n) => n.namespace).join(', ')}.`);
    tracker.finish('succeeded');
    return tracker.view();
  } catch (error) {
    return await compensateAndRethrow(error, { tracker, saga, closeChange });
  }
}
