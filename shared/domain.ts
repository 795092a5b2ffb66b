/**
 * Domain types used across workflows, activities and the API. Plain data only: everything here
 * crosses a Temporal payload boundary, so it must survive JSON round trips.
 */

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An image pinned by digest. `repository` never contains a tag or digest. */
export interface ImageRef {
  /** As given by the caller, e.g. `ghcr.io/acme/payments:1.4.2@sha256:…`. */
  reference: string;
  /** e.g. `ghcr.io/acme/payments`. */
  repository: string;
  /** Optional human tag, informational only: deployments always pin the digest. */
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest: string;
}

export interface ScanFinding {
  id: string;
  severity: Severity;
  pkg: string;
  installedVersion?: string;
  fixedVersion?: string;
  title?: string;
}

/** A scan report reduced to what the policy needs (the API reduces Trivy JSON to this). */
export interface ScanReport {
  source: 'trivy';
  artifactName?: string;
  /** `repo@sha256:…` entries the report says it scanned; used to check it is about our image. */
  repoDigests: string[];
  findings: ScanFinding[];
}

export type SeverityCounts = Record<Severity, number>;

export interface ScanSummary {
  scanner: string;
  /** False when nothing was scanned (no report); `note` says why it still passed, if it did. */
  scanned: boolean;
  passed: boolean;
  counts: SeverityCounts;
  /** Severities the environment blocks. */
  blockedSeverities: Severity[];
  /** How many findings are of a blocked severity. */
  blockingFindings: number;
  /** The worst findings (at most a handful), for people reading the status. */
  worst: ScanFinding[];
  /** Why the scan failed, in one sentence, when `passed` is false. */
  reason?: string;
  /** Why an unscanned image was allowed (the environment does not require a scan). */
  note?: string;
  /** When the run judged it (ISO), recorded by the run. */
  scannedAt?: string;
}

export interface EnvironmentPolicy {
  name: string;
  /** Cluster the environment's namespaces live on (a path segment in the GitOps repository). */
  cluster: string;
  approval: {
    required: boolean;
    /** How long approvers have, in milliseconds. */
    deadlineMs: number;
    /** Who may approve. Optional because runs started before it existed carry policies without it. */
    approvers?: ApproverRules;
    /**
     * Length of the change window the platform proposes when it opens a change (planned start =
     * opening time). Absent: the change's own planned dates, if ServiceNow has any, bound the deploy.
     */
    windowMs?: number;
  };
  scan: {
    /** A deployment without a scan report fails when true. */
    required: boolean;
    blockSeverities: Severity[];
    /** A scan older than this when approval arrives is repeated before deploying. */
    maxAgeMs?: number;
  };
  /** Upper bound on replicas a request may ask for. */
  maxReplicas: number;
  /** Whether creating a landing zone that includes this environment needs an approved change. */
  landingZone: { approvalRequired: boolean };
  /**
   * How long a rollout may take before verification fails and the saga undoes the deploy.
   * Optional because runs started before it existed carry policies without it.
   */
  rollout?: { timeoutMs: number };
}

/** Who may approve a change: approvals in ServiceNow that do not meet these are not acted on. */
export interface ApproverRules {
  /** ServiceNow approval groups whose members' approvals count; empty: any group. */
  groups: string[];
  /** Distinct approvers needed, none of them the requester. */
  quorum: number;
}

export interface DeployRequest {
  project: string;
  service: string;
  environment: string;
  image: ImageRef;
  port: number;
  replicas: number;
  route: { host: string; path: string };
  /** HTTP path of the readiness and liveness probes (the project's `probes.readinessPath`). */
  healthPath?: string;
  scanReport?: ScanReport;
  /** Informational: who the caller says asked for the deploy. Never trusted for approvals. */
  requestedBy: string;
  /** The authenticated caller (token subject). Absent in runs started before it was recorded. */
  requester?: string;
}

/** A Kubernetes object rendered to YAML, with the identity fields people and tools look for. */
export interface RenderedManifest {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** What applies it: the workload, its mesh wiring, or the namespace set-up of a landing zone. */
  component: 'app' | 'mesh' | 'namespace';
  yaml: string;
}

export interface RenderedRelease {
  chart: {
    name: string;
    version: string;
    appVersion: string;
    /** Chart files by path relative to the chart root (Chart.yaml, values.yaml, templates/…). */
    files: Record<string, string>;
  };
  manifests: RenderedManifest[];
  /** sha256 over the chart files and rendered manifests, hex. */
  contentHash: string;
  namespace: string;
  /** The image reference as deployed: `repository@sha256:…`. */
  pinnedImage: string;
}

export type ChangeApproval = 'not requested' | 'requested' | 'approved' | 'rejected';

export interface ChangeRecord {
  sysId: string;
  number: string;
  /** ServiceNow state code as a string (-5 New … 3 Closed, 4 Canceled). */
  state: string;
  approval: ChangeApproval;
  correlationId: string;
  /** Who approved or rejected it, when the change-management system says (read when polling). */
  decidedBy?: string;
  /** Link for people, when the adapter knows one. */
  url?: string;
  /** The planned window (ISO times), when the change has one. */
  window?: ChangeWindow;
}

export interface ChangeWindow {
  start?: string;
  end?: string;
}

/** One approver's record on a change (ServiceNow's `sysapproval_approver`). */
export interface ApprovalRecord {
  approver: string;
  group: string;
  state: 'requested' | 'approved' | 'rejected' | 'other';
  /** ISO time of the approver's last action, when known. */
  decidedAt?: string;
}

export type ChangeOutcome = 'successful' | 'unsuccessful' | 'cancelled';

/**
 * A decision as someone reports it to a run (the webhook, a signal, an update). A claim only:
 * the run acts on it after reading the same decision in ServiceNow.
 */
export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  approver: string;
  changeNumber: string;
  comment?: string;
  /** Legacy: what the sender said it was. Runs record the channel they really received it on. */
  via?: 'webhook' | 'poll';
  /** The delivery's id (ServiceNow's `event_id`), so a redelivery is recognised. */
  eventId?: string;
}

/** What ServiceNow records about a change's approval, judged against the approver rules. */
export type ChangeVerdict =
  | { kind: 'pending'; detail: string }
  /** ServiceNow says approved, but the approvals do not meet the rules: not acted on. */
  | { kind: 'refused'; detail: string }
  | { kind: 'approved'; approvers: string[] }
  | { kind: 'rejected'; rejectedBy: string[]; detail: string };

export interface ChangeReading {
  verdict: ChangeVerdict;
  window?: ChangeWindow;
}
