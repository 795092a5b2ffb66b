/**
 * The contract of the landing-zone workflow: everything a new project needs, created by one run.
 * Importable from workflows, workers, the API and tests; holds no side effects.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RunView } from './run';
import type { ApproverRules } from '../domain';
import type { Quota } from '../schemas/quota';

export const LANDING_ZONE_WORKFLOW_TYPE = 'landingZoneWorkflow';

export const LANDING_ZONE_STAGES = [
  'reserve',
  'openChange',
  'awaitApproval',
  'awaitWindow',
  'namespaces',
  'imageRepository',
  'configuration',
  'sourceRepository',
  'credentials',
  'register',
  'notify',
  'closeChange',
] as const;
export type LandingZoneStage = (typeof LANDING_ZONE_STAGES)[number];

/** The zod schema in shared/schemas/quota.ts is the one definition; workflows get only its type. */
export type { Quota };

export interface LandingZoneRequest {
  project: string;
  tenant: string;
  /** A project class: java, dotnet, node-web, python-backend, mobile-backend. */
  projectClass: string;
  owners: { emails: string[]; group: string };
  environments: string[];
  quota?: Partial<Quota>;
  requestedBy: string;
}

export interface LandingZoneApproval {
  required: boolean;
  deadlineMs: number;
  reason: string;
  /** The strictest approver rules of the environments asking for approval (absent in older runs). */
  approvers?: ApproverRules;
}

/** Resolved by the API when the run is requested, so the run never reads policy files. */
export interface LandingZoneInput {
  request: LandingZoneRequest;
  environments: { name: string; cluster: string; namespace: string }[];
  approval: LandingZoneApproval;
  /** The class's defaults with the request's overrides applied. */
  quota: Quota;
  containerDefaults: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  defaults: { port: number; readinessPath: string; livenessPath: string };
  links: { apiUrl: string; temporalUiUrl: string };
}

export interface LandingZoneResources {
  namespaces: { environment: string; namespace: string; revision?: string }[];
  imageRepository?: { name: string; uri: string };
  sourceRepository?: { name: string; cloneUrl: string; head: string };
  configurationKeys: string[];
  /** Where the project's CI token is kept; never the token itself. */
  ciTokenSecretRef?: string;
  notification?: { messageId: string };
}

export interface LandingZoneStatusView extends RunView<LandingZoneStage> {
  landingZoneId: string;
  project: string;
  tenant: string;
  projectClass: string;
  environments: string[];
  requestedBy: string;
  resources: LandingZoneResources;
}

export const landingZoneStatusQuery = defineQuery<LandingZoneStatusView>('status');

/** One landing zone per project: the id is the project, so a second request meets the first. */
export function landingZoneWorkflowId(project: string): string {
  return `landing-zone.${project}`;
}

/** What a landing zone is, as recorded when it was created and kept current by updates. */
export interface LandingZoneSpec {
  owners: { emails: string[]; group: string };
  environments: { name: string; cluster: string; namespace: string }[];
  quota: Quota;
  containerDefaults: LandingZoneInput['containerDefaults'];
  defaults: LandingZoneInput['defaults'];
}

/** The spec a creation run records: its environments, quota and defaults as resolved. */
export function specOf(input: LandingZoneInput): LandingZoneSpec {
  return {
    owners: input.request.owners,
    environments: input.environments,
    quota: input.quota,
    containerDefaults: input.containerDefaults,
    defaults: input.defaults,
  };
}

/** What a creation run registers once its landing zone exists: what deployments are checked against. */
export interface LandingZoneRegistration {
  project: string;
  tenant: string;
  projectClass: string;
  environments: string[];
  /** The creation run. */
  workflowId: string;
  runId: string;
  /** What the landing zone created (namespaces, repositories, token reference), as its runs reported. */
  resources: unknown;
  spec: LandingZoneSpec;
}

/**
 * Updates and decommissions of a project's landing zone share one workflow id, so at most one of
 * them runs at a time (a second request meets the first: 409).
 */
export function landingZoneOperationWorkflowId(project: string): string {
  return `landing-zone-operation.${project}`;
}

export const LANDING_ZONE_UPDATE_WORKFLOW_TYPE = 'landingZoneUpdateWorkflow';
export const LANDING_ZONE_DECOMMISSION_WORKFLOW_TYPE = 'landingZoneDecommissionWorkflow';

export const LANDING_ZONE_UPDATE_STAGES = ['openChange', 'awaitApproval', 'awaitWindow', 'namespaces', 'configuration', 'record', 'notify', 'closeChange'] as const;
export type LandingZoneUpdateStage = (typeof LANDING_ZONE_UPDATE_STAGES)[number];

export const LANDING_ZONE_DECOMMISSION_STAGES = [
  'openChange',
  'awaitApproval',
  'awaitWindow',
  'freeze',
  'inspect',
  'services',
  'namespaces',
  'imageRepository',
  'credentials',
  'configuration',
  'sourceRepository',
  'unregister',
  'notify',
  'closeChange',
] as const;
export type LandingZoneDecommissionStage = (typeof LANDING_ZONE_DECOMMISSION_STAGES)[number];

/** Who asked, about which landing zone, and whether the policy wants an approved change first. */
interface OperationBase {
  project: string;
  tenant: string;
  projectClass: string;
  requestedBy: string;
  /** The landing zone as it is now: its registered spec and resources. */
  current: LandingZoneSpec;
  resources: LandingZoneResources;
  approval: LandingZoneInput['approval'];
  links: LandingZoneInput['links'];
}

/**
 * Resolved by the API from the registered spec and the request: only the difference is applied.
 * `namespaces` lists every namespace to (re)apply: the new ones, and the existing ones when the
 * quota changed.
 */
export interface LandingZoneUpdateInput extends OperationBase {
  addEnvironments: LandingZoneSpec['environments'];
  /** The quota after the update; equal to `current.quota` when it does not change. */
  quota: Quota;
  quotaChanged: boolean;
}

export interface LandingZoneDecommissionInput extends OperationBase {
  /** Remove the deployed services too, and the image repository even when it holds images. */
  force: boolean;
  reason?: string;
  /** The creation run: its keys name the CI token to revoke and the record to remove. */
  creation: { workflowId: string; runId: string };
}

export interface LandingZoneOperationView<Stage extends string = string> extends RunView<Stage> {
  operation: 'update' | 'decommission';
  operationId: string;
  project: string;
  tenant: string;
  requestedBy: string;
  /** One line per thing this run changed (or, for a refused decommission, found in the way). */
  summary: string[];
}

export type LandingZoneUpdateView = LandingZoneOperationView<LandingZoneUpdateStage>;
export type LandingZoneDecommissionView = LandingZoneOperationView<LandingZoneDecommissionStage> & {
  force: boolean;
  /** Services found deployed in the landing zone's namespaces when it was inspected. */
  deployedServices: { namespace: string; service: string }[];
};

/** Update and decommission runs answer `status` with their view. */
export const landingZoneOperationStatusQuery = defineQuery<LandingZoneOperationView>('status');
