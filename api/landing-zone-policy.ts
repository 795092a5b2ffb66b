/**
 * What the environment policy says about a landing-zone run: whether it needs an approved change
 * (any environment it touches whose policy asks so) and each environment's cluster and namespace.
 */
import type { PlatformConfig } from '../shared/config';
import type { ApproverRules } from '../shared/domain';
import { projectNamespace } from '../shared/contracts/deploy';
import type { LandingZoneInput, LandingZoneSpec } from '../shared/contracts/landing-zone';
import { DeployProject, DeployStage, DeployStatus } from '../shared/search-attributes';
import type { FieldError } from './errors';

/** 72 hours: the approval window when no touched environment names one. */
const DEFAULT_APPROVAL_DEADLINE_MS = 72 * 3_600_000;

export function landingZoneApproval(config: PlatformConfig, environments: readonly string[]): LandingZoneInput['approval'] {
  const approvers = environments.flatMap((name) => {
    const policy = config.environments[name];
    return policy?.landingZone.approvalRequired ? [policy] : [];
  });
  // The environment needing the most approvers sets the rules (its groups), so no environment's bar is lowered.
  const strictest = approvers.map((p) => p.approval.approvers).reduce<ApproverRules | undefined>((a, b) => (b && (!a || b.quorum > a.quorum) ? b : a), undefined);
  return {
    required: approvers.length > 0,
    ...(strictest ? { approvers: strictest } : {}),
    deadlineMs: Math.max(0, ...approvers.map((p) => p.approval.deadlineMs)) || DEFAULT_APPROVAL_DEADLINE_MS,
    reason: approvers.length > 0 ? `includes ${approvers.map((p) => p.name).join(', ')}` : 'no environment of it asks for approval',
  };
}

/** Where each environment of a project lives; unknown environments are reported under `field`. */
export function placeEnvironments(
  config: PlatformConfig,
  project: string,
  names: readonly string[],
  field: string,
): { placed: LandingZoneSpec['environments']; problems: FieldError[] } {
  const placed: LandingZoneSpec['environments'] = [];
  const problems: FieldError[] = [];
  names.forEach((name, index) => {
    const policy = config.environments[name];
    if (!policy) problems.push({ field: `${field}.${index}`, message: `"${name}" is not an environment; known: ${Object.keys(config.environments).join(', ')}` });
    else placed.push({ name, cluster: policy.cluster, namespace: projectNamespace(project, name) });
  });
  return { placed, problems };
}

/** What every landing-zone run starts with in the Temporal UI's search attributes. */
export function landingZoneRunSearchAttributes(project: string) {
  return [
    { key: DeployProject, value: project },
    { key: DeployStage, value: 'openChange' },
    { key: DeployStatus, value: 'running' },
  ];
}
