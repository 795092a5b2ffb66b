/**
 * The contract of the landing-zone workflow: everything a new project needs, created by one run.
 * Importable from workflows, workers, the API and tests; holds no side effects.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RunView } from './run';

export const LANDING_ZONE_WORKFLOW_TYPE = 'landingZoneWorkflow';

export const LANDING_ZONE_STAGES = [
  'reserve',
  'openChange',
  'awaitApproval',
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

export interface Quota {
  requestsCpu: string;
  requestsMemory: string;
  limitsCpu: string;
  limitsMemory: string;
  pods: number;
}

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

/** Resolved by the API when the run is requested, so the run never reads policy files. */
export interface LandingZoneInput {
  request: LandingZoneRequest;
  environments: { name: string; cluster: string; namespace: string }[];
  approval: { required: boolean; deadlineMs: number; reason: string };
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
