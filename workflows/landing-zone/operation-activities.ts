/** The activity proxies of the landing-zone workflows, one per retry profile. */
import { proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../activities/deploy';
import type { LandingZoneActivities } from '../../activities/landing-zone';
import { changeOp, fastStep, sideEffect } from '../shared/activity-options';

type Activities = LandingZoneActivities & Pick<DeployActivities, 'closeChange' | 'rollbackManifests'>;

export const changes = proxyActivities<Activities>({ ...changeOp, summary: 'change request in ServiceNow' });
export const create = proxyActivities<Activities>({ ...sideEffect, summary: 'change a landing-zone resource' });
export const undo = proxyActivities<Activities>({ ...sideEffect, summary: 'compensation: restore a landing-zone resource' });
export const notifying = proxyActivities<Activities>({ ...fastStep, summary: 'notify the owners' });

