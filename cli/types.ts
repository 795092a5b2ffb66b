/**
 * The parts of the API's answers the CLI reads. Declared here rather than imported from shared/ so
 * that the CLI stays a small client of the HTTP API (it is packed on its own: see README.md); every
 * field the API may leave out is optional, and fields the CLI does not know are passed through
 * untouched by --json.
 */

export const RUN_STATUSES = ['running', 'awaiting_approval', 'waiting_for_window', 'queued', 'succeeded', 'failed', 'rejected', 'expired', 'rolled_back', 'cancelled', 'superseded'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const DEPLOY_STAGES = ['scan', 'render', 'openChange', 'awaitApproval', 'awaitWindow', 'rescan', 'queue', 'deploy', 'wireMesh', 'verify', 'closeChange', 'compensate', 'done'] as const;

export interface StepRecord {
  name: string;
  status: string;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export interface RefusedDecision {
  at?: string;
  via?: string;
  claimed?: string;
  approver?: string;
  deliveryId?: string;
  reason?: string;
}

export interface ApprovalView {
  required?: boolean;
  deadline?: string;
  decision?: string;
  approver?: string;
  approvers?: string[];
  comment?: string;
  decidedAt?: string;
  expiredBecause?: string;
  refused?: RefusedDecision[];
  window?: { start?: string; end?: string };
}

/** What every run reports (deployments, landing zones and their updates and decommissions). */
export interface RunView {
  /** A RunStatus; a run no worker answers for may show Temporal's own status instead. */
  status: string;
  stage?: string;
  startedAt?: string;
  endedAt?: string;
  steps?: StepRecord[];
  approval?: ApprovalView;
  change?: { number: string; sysId?: string; url?: string; outcome?: string };
  error?: { type: string; message: string };
  compensationErrors?: { step: string; message: string }[];
  detailsUnavailable?: string;
  /** Deployments: while queued, the run this one waits for; when superseded, the run that replaced it. */
  queuedBehind?: { deploymentId: string; runId?: string };
  supersededBy?: { deploymentId: string; runId?: string };
}

export interface ScanSummary {
  scanner?: string;
  scanned?: boolean;
  passed?: boolean;
  counts?: Record<string, number>;
  blockingFindings?: number;
  reason?: string;
  note?: string;
}

export interface Links {
  self?: string;
  cancel?: string;
  temporalUi?: string;
}

export interface DeploymentView extends RunView {
  deploymentId: string;
  runId?: string;
  project?: string;
  service?: string;
  environment?: string;
  image?: string;
  requestedBy?: string;
  scan?: ScanSummary;
  rescan?: ScanSummary;
  links?: Links;
  /** On POST: whether this request started the run. */
  created?: boolean;
  note?: string;
}

export interface DeploymentSummary {
  deploymentId: string;
  runId: string;
  project?: string;
  service?: string;
  environment?: string;
  status: string;
  stage?: string;
  changeNumber?: string;
  startedAt?: string;
  closedAt?: string;
  links?: Links;
}

export interface RunSummary {
  runId: string;
  status: string;
  stage?: string;
  changeNumber?: string;
  startedAt?: string;
  closedAt?: string;
  links?: Links;
}

export interface Page<Item> {
  items: Item[];
  nextCursor?: string;
}

export interface LandingZoneOperation extends RunView {
  operation?: 'update' | 'decommission';
  operationId?: string;
  runId: string;
  summary?: string[];
}

export interface LandingZoneView extends RunView {
  project: string;
  tenant?: string;
  projectClass?: string;
  environments?: string[];
  requestedBy?: string;
  registered?: boolean;
  state?: string;
  resources?: {
    namespaces?: { environment: string; namespace: string }[];
    imageRepository?: { name: string; uri: string };
    sourceRepository?: { name: string; cloneUrl: string };
    ciTokenSecretRef?: string;
  };
  lastOperation?: LandingZoneOperation;
  links?: Links;
}

/** The answer to POST, PATCH and DELETE of a landing zone. */
export interface LandingZoneStarted {
  project: string;
  operation?: 'update' | 'decommission';
  runId?: string;
  status?: string;
  approvalRequired?: boolean;
  changes?: string[];
  /** PATCH: false when the zone already looked like that (nothing started). */
  changed?: boolean;
  message?: string;
  links?: Links;
}

export interface ConfigEntry {
  key: string;
  value?: string;
  secretRef?: string;
  secret?: boolean;
  scope: string;
  environment?: string | null;
  updatedBy?: string;
  updatedAt?: string;
}

export interface ResolvedConfig {
  tenant: string;
  project: string;
  environment: string | null;
  entries: ConfigEntry[];
}
