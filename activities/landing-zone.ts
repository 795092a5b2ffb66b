/**
 * The landing-zone workflow's activities: thin functions over the provider ports. Each one is
 * idempotent under retry; keys toward outside systems are `<workflowId>/<runId>/<step>`.
 */
import { specOf, type LandingZoneInput, type LandingZoneResources, type LandingZoneSpec } from '../shared/contracts/landing-zone';
import type { ChangeRecord } from '../shared/domain';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../shared/errors';
import { temporalUiLink } from '../shared/temporal-ui';
import { whileHeartbeating } from './heartbeat';
import { renderNamespaceManifests, type NamespaceSpec } from './landing-zone/namespace-manifests';
import type { ChangeManagement } from './ports/change-management';
import type { ApplyRequest, ApplyResult, ClusterTarget, TargetLocation } from './ports/cluster-target';
import type { CredentialIssuer } from './ports/credentials';
import type { ImageRegistry } from './ports/image-registry';
import type { DeploymentRuns } from './ports/deployment-runs';
import type { LandingZoneDirectory } from './ports/landing-zone-directory';
import type { Notification, Notifier } from './ports/notifier';
import type { ProjectConfiguration, ProjectConfigurationEntry } from './ports/project-configuration';
import type { ProjectTemplates } from './ports/project-templates';
import type { SourceRepository } from './ports/source-repository';

export interface LandingZonePorts {
  changes: ChangeManagement;
  cluster: ClusterTarget;
  registry: ImageRegistry;
  sources: SourceRepository;
  configuration: ProjectConfiguration;
  credentials: CredentialIssuer;
  notifier: Notifier;
  templates: ProjectTemplates;
  directory: LandingZoneDirectory;
  runs: DeploymentRuns;
}

const repositoryName = (tenant: string, project: string): string => `${tenant}/${project}`;

export function createLandingZoneActivities(ports: LandingZonePorts) {
  return {
    async openLandingZoneChange({ correlationId, landingZoneId, input }: { correlationId: string; landingZoneId: string; input: LandingZoneInput }): Promise<ChangeRecord> {
      const { request } = input;
      return whileHeartbeating(() =>
        ports.changes.open({
          correlationId,
          shortDescription: `Landing zone for ${request.tenant}/${request.project} (${input.environments.map((e) => e.name).join(', ')})`,
          description: [
            `Create the landing zone of project ${request.project} (tenant ${request.tenant}, class ${request.projectClass}).`,
            `Namespaces: ${input.environments.map((e) => `${e.namespace} on ${e.cluster}`).join(', ')}`,
            `Owners: ${request.owners.emails.join(', ')} (group ${request.owners.group})`,
            `Quota per namespace: cpu ${input.quota.requestsCpu}/${input.quota.limitsCpu}, memory ${input.quota.requestsMemory}/${input.quota.limitsMemory}, ${input.quota.pods} pods`,
            `Requested by: ${request.requestedBy}`,
            `Platform run: ${landingZoneId} (${correlationId})`,
          ].join('\n'),
          type: input.approval.required ? 'normal' : 'standard',
          requestedBy: request.requestedBy,
        }),
      );
    },

    async applyNamespace(request: { idempotencyKey: string; cluster: string; audit: ApplyRequest['audit']; spec: NamespaceSpec }): Promise<ApplyResult> {
      const manifests = renderNamespaceManifests(request.spec);
      return whileHeartbeating(() =>
        ports.cluster.apply({
          idempotencyKey: request.idempotencyKey,
          location: { cluster: request.cluster, namespace: request.spec.namespace, component: 'namespace' },
          manifests,
          audit: request.audit,
        }),
      );
    },

    async ensureImageRepository({ tenant, project, idempotencyKey }: { tenant: string; project: string; idempotencyKey: string }) {
      return whileHeartbeating(() =>
        ports.registry.ensureRepository({
          name: repositoryName(tenant, project),
          immutableTags: true,
          scanOnPush: true,
          lifecyclePolicy: { keepLastImages: 100 },
          tags: { tenant, project, 'managed-by': 'deploy-platform' },
          idempotencyKey,
        }),
      );
    },

    /**
     * As compensation of a creation (`createdBy` set), only a repository that run created is
     * deleted, and nobody could have pushed yet, so `force` defaults to true; a decommission passes
     * its own `force`, so images are never deleted unless someone asked.
     */
    async deleteImageRepository({ tenant, project, force = true, createdBy }: { tenant: string; project: string; idempotencyKey: string; force?: boolean; createdBy?: string }): Promise<{ deleted: boolean }> {
      return whileHeartbeating(() =>
        ports.registry.deleteRepository({ name: repositoryName(tenant, project), force, ...(createdBy !== undefined ? { onlyIfCreatedBy: createdBy } : {}) }),
      );
    },

    async writeProjectConfiguration({ tenant, project, entries, updatedBy }: { tenant: string; project: string; entries: ProjectConfigurationEntry[]; updatedBy: string }): Promise<string[]> {
      return ports.configuration.writeProjectEntries(tenant, project, entries, updatedBy);
    },

    async deleteProjectConfiguration({ tenant, project, entries }: { tenant: string; project: string; entries: ProjectConfigurationEntry[] }): Promise<void> {
      await ports.configuration.deleteProjectEntries(tenant, project, entries.map(({ key, environment }) => ({ key, environment })));
    },

    async deleteAllProjectConfiguration({ tenant, project }: { tenant: string; project: string }): Promise<number> {
      return ports.configuration.deleteAllProjectEntries(tenant, project);
    },

    async createSourceRepository({ input, imageRepository, idempotencyKey }: { input: LandingZoneInput; imageRepository: string; idempotencyKey: string }) {
      const { request } = input;
      const skeleton = await ports.templates.renderSkeleton(request.projectClass, {
        project: request.project,
        tenant: request.tenant,
        service: request.project,
        owners: request.owners,
        environments: input.environments.map((e) => e.name),
        platformApiUrl: input.links.apiUrl,
        imageRepository,
        routeHost: `${request.project}.${request.tenant}.apps.example.com`,
        temporalUiUrl: input.links.temporalUiUrl,
      });
      const created = await whileHeartbeating(() =>
        ports.sources.create({
          name: repositoryName(request.tenant, request.project),
          files: skeleton.files,
          initialCommit: {
            message: `Create ${request.project} from the ${request.projectClass} template`,
            author: { name: 'deploy-platform', email: 'deploy-platform@localhost' },
          },
          idempotencyKey,
        }),
      );
      return { name: created.name, cloneUrl: created.cloneUrl, head: created.head };
    },

    async deleteSourceRepository({ tenant, project }: { tenant: string; project: string; idempotencyKey: string }): Promise<void> {
      await whileHeartbeating(() => ports.sources.delete({ name: repositoryName(tenant, project) }));
    },

    async archiveSourceRepository({ tenant, project, idempotencyKey }: { tenant: string; project: string; idempotencyKey: string }) {
      return whileHeartbeating(() => ports.sources.archive({ name: repositoryName(tenant, project), idempotencyKey }));
    },

    async issueProjectToken({ tenant, project, idempotencyKey }: { tenant: string; project: string; environments: string[]; idempotencyKey: string }) {
      return ports.credentials.issueProjectToken({ tenant, project, idempotencyKey });
    },

    async revokeProjectToken({ idempotencyKey }: { tenant: string; project: string; idempotencyKey: string }): Promise<void> {
      await ports.credentials.revokeProjectToken({ idempotencyKey });
    },

    async registerLandingZone(request: { input: LandingZoneInput; landingZoneId: string; runId: string; resources: LandingZoneResources }): Promise<void> {
      const { request: lz } = request.input;
      ports.directory.register({
        project: lz.project,
        tenant: lz.tenant,
        projectClass: lz.projectClass,
        environments: request.input.environments.map((e) => e.name),
        workflowId: request.landingZoneId,
        runId: request.runId,
        resources: request.resources,
        spec: specOf(request.input),
      });
    },

    /** Writes a revision of the record (an update, or the undo of one: the previous revision). */
    async reviseLandingZone({ project, environments, spec, resources }: { project: string; environments: string[]; spec: LandingZoneSpec; resources: LandingZoneResources }): Promise<void> {
      if (!ports.directory.revise(project, { environments, spec, resources })) {
        throw ApplicationFailure.create({ type: ErrorType.ResourceConflict, nonRetryable: true, message: `project ${project} has no landing zone to update` });
      }
    },

    async setLandingZoneState({ project, state }: { project: string; state: 'active' | 'decommissioning' }): Promise<boolean> {
      return ports.directory.setState(project, state);
    },

    /** What stands in the way of a decommission: services in its namespaces and deployment runs still going. */
    /** Heartbeats: reading the GitOps target waits for its lock behind the deploys in flight. */
    async inspectLandingZone({ project, namespaces }: { project: string; namespaces: { cluster: string; namespace: string }[] }) {
      return whileHeartbeating(async () => {
        const services: { cluster: string; namespace: string; service: string }[] = [];
        const present: string[] = [];
        for (const location of namespaces) {
          const found = await ports.cluster.inventory(location);
          if (found.namespaceExists) present.push(location.namespace);
          services.push(...found.services.map((service) => ({ ...location, service })));
        }
        return { services, namespacesPresent: present, inFlight: await ports.runs.inFlight(project) };
      });
    },

    /** Empties one location (a service component or a namespace's own objects); undone by `rollbackManifests`. */
    async clearLocation(request: { idempotencyKey: string; location: TargetLocation; audit: ApplyRequest['audit'] }): Promise<ApplyResult> {
      return whileHeartbeating(() => ports.cluster.apply({ ...request, manifests: [] }));
    },

    async openOperationChange(request: { correlationId: string; shortDescription: string; description: string; approvalRequired: boolean; requestedBy: string }): Promise<ChangeRecord> {
      const { approvalRequired, ...rest } = request;
      return whileHeartbeating(() => ports.changes.open({ ...rest, type: approvalRequired ? 'normal' : 'standard' }));
    },

    async sendNotification(notification: Notification): Promise<{ messageId: string }> {
      const result = await ports.notifier.notify(notification);
      return { messageId: result.messageId };
    },

    async unregisterLandingZone({ project, runId }: { project: string; runId: string }): Promise<void> {
      ports.directory.unregister(project, runId);
    },

    async notifyOwners(request: { idempotencyKey: string; input: LandingZoneInput; landingZoneId: string; runId: string; resources: LandingZoneResources }) {
      const { input, resources } = request;
      const { project, tenant, owners } = input.request;
      const links = [
        ...(resources.sourceRepository ? [{ label: 'Source repository', url: resources.sourceRepository.cloneUrl }] : []),
        { label: 'Landing zone status', url: `${input.links.apiUrl}/v1/landing-zones/${project}` },
        // The run's own namespace, whatever TEMPORAL_NAMESPACE is.
        { label: 'Temporal run', url: temporalUiLink(input.links.temporalUiUrl, Context.current().info.namespace, request.landingZoneId, request.runId) },
      ];
      const result = await ports.notifier.notify({
        to: owners.emails,
        group: owners.group,
        subject: `Your landing zone ${tenant}/${project} is ready`,
        body: [
          `The landing zone of ${project} (${input.request.projectClass}) is ready.`,
          `Namespaces: ${resources.namespaces.map((n) => `${n.namespace} (${n.environment})`).join(', ')}`,
          `Image repository: ${resources.imageRepository?.uri ?? '-'}`,
          `Pipeline: Jenkinsfile and .github/workflows/deploy.yml in the repository`,
          `CI token: stored at ${resources.ciTokenSecretRef ?? '-'} (configure it as PLATFORM_TOKEN in your CI)`,
        ].join('\n'),
        links,
        idempotencyKey: request.idempotencyKey,
      });
      return { messageId: result.messageId };
    },
  };
}

export type LandingZoneActivities = ReturnType<typeof createLandingZoneActivities>;
