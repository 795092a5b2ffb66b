/**
 * Failure type names shared by activities (which raise them), workflows (which react to them)
 * and the API (which reports them). One list, so a name cannot drift between the three.
 */
export const ErrorType = {
  /** The image scan found findings the environment's policy blocks, or no scan was supplied. */
  ScanPolicyViolation: 'ScanPolicyViolation',
  /** A rendered manifest failed Kubernetes or Istio schema validation. */
  ManifestInvalid: 'ManifestInvalid',
  /** The approver rejected the change request. */
  ApprovalRejected: 'ApprovalRejected',
  /** Nobody decided on the change request before the policy's deadline. */
  ApprovalExpired: 'ApprovalExpired',
  /** The change-management system refused a request in a way retrying cannot fix (4xx). */
  ChangeRequestRefused: 'ChangeRequestRefused',
  /** The cluster target refused a change in a way retrying cannot fix (e.g. a repository hook). */
  ClusterTargetRejected: 'ClusterTargetRejected',
  /** Server-side apply found a field owned by another field manager (named in the message). */
  ClusterApplyConflict: 'ClusterApplyConflict',
  /** The cluster refused the platform's identity (authentication or RBAC), naming verb and resource. */
  ClusterAccessDenied: 'ClusterAccessDenied',
  /** The cluster does not serve a kind the release needs (e.g. Istio's CRDs are not installed). */
  ClusterApiMissing: 'ClusterApiMissing',
  /** Undoing an applied change conflicts with later changes and needs a human. */
  RollbackConflict: 'RollbackConflict',
  /** The applied release is not what the cluster target holds or reports. */
  VerificationFailed: 'VerificationFailed',
  /** Configuration given to an adapter is unusable. */
  ConfigurationInvalid: 'ConfigurationInvalid',
  /** A resource exists already and belongs to something else (another run, a non-empty registry). */
  ResourceConflict: 'ResourceConflict',
  /** A landing zone cannot be decommissioned: services are deployed in it or deployments are in flight. */
  LandingZoneInUse: 'LandingZoneInUse',
  /** A newer request for the same service and environment replaced the run before it changed anything. */
  DeploymentSuperseded: 'DeploymentSuperseded',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Failure types after which retrying the same activity with the same input cannot succeed. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorTypeName[] = Object.values(ErrorType);
