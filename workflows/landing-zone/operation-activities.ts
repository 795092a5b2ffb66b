/** The activity proxies of the landing-zone workflows, one per retry profile, and their audit helper. */
import { proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../activities/deploy';
import type { LandingZoneActivities } from '../../activities/landing-zone';
import type { ApplyRequest } from '../../activities/ports/cluster-target';
import { changeOp, fastStep, sideEffect } from '../shared/activity-options';

type Activities = LandingZoneActivities & Pick<DeployActivities, 'closeChange' | 'rollbackManifests'>;

export const changes = proxyActivities<Activities>({ ...changeOp, summary: 'change request in ServiceNow' });
export const create = proxyActivities<Activities>({ ...sideEffect, summary: 'change a landing-zone resource' });
export const undo = proxyActivities<Activities>({ ...sideEffect, summary: 'compensation: restore a landing-zone resource' });
export const notifying = proxyActivities<Activities>({ ...fastStep, summary: 'notify the owners' });

/** The audit trail of one run's cluster-target commits (title, run, change). */
export function operationAudit(operationId: string, runId: string, changeNumber: () => string | undefined) {
  return (title: string): ApplyRequest['audit'] => ({ title, deploymentId: operationId, runId, changeNumber: changeNumber() });
}
