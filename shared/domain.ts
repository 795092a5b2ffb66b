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
}

export interface EnvironmentPolicy {
  name: string;
  /** Cluster the environment's namespaces live on (a path segment in the GitOps repository). */
  cluster: string;
  approval: {
    required: boolean;
    /** How long approvers have, in milliseconds. */
    deadlineMs: number;
  };
  scan: {
    /** A deployment without a scan report fails when true. */
    required: boolean;
    blockSeverities: Severity[];
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
  requestedBy: string;
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
}

export type ChangeOutcome = 'successful' | 'unsuccessful' | 'cancelled';

export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  approver: string;
  changeNumber: string;
  comment?: string;
  /** How the decision reached the run: the signed webhook (default) or polling the change. */
  via?: 'webhook' | 'poll';
}
