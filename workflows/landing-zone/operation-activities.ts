/** The activity proxies of the landing-zone workflows, one per retry profile; each call has its own summary in the UI. */
import type { ChangeRequestActivities } from '../../activities/change-requests';
import type { ClusterChangeActivities } from '../../activities/cluster-changes';
import type { LandingZoneActivities } from '../../activities/landing-zone';
import { changeOp, fastStep, sideEffect, summarisedActivities } from '../shared/activity-options';

type Activities = LandingZoneActivities & Pick<ChangeRequestActivities, 'closeChange'> & ClusterChangeActivities;

export const changes = summarisedActivities<Activities>(
  changeOp,
  {
    openLandingZoneChange: 'open the landing zone\'s change request in ServiceNow',
    openOperationChange: 'open the change request for the update or decommission in ServiceNow',
    closeChange: 'close the change request in ServiceNow with the outcome',
  },
  'change request in ServiceNow',
);

export const create = summarisedActivities<Activities>(
  sideEffect,
  {
    applyNamespace: 'apply the namespace set-up: namespace, quota, limits, network and mesh policies, owners\' access',
    ensureImageRepository: 'create the project\'s image repository',
    writeProjectConfiguration: 'write the project\'s configuration entries',
    createSourceRepository: 'create the source repository from the class template',
    issueProjectToken: 'issue the project\'s CI token',
    registerLandingZone: 'register the landing zone: deployments may target it',
    reviseLandingZone: 'record the landing zone\'s new environments and quota',
    setLandingZoneState: 'set the landing zone\'s state (new deployments refused while decommissioning)',
    inspectLandingZone: 'inspect what is deployed in the landing zone',
    clearLocation: 'remove a service or namespace from the cluster target',
    deleteImageRepository: 'delete the image repository',
    revokeProjectToken: 'revoke the project\'s CI token',
    deleteAllProjectConfiguration: 'delete the project\'s configuration',
    archiveSourceRepository: 'archive the source repository',
    unregisterLandingZone: 'unregister the landing zone',
  },
  'change a landing-zone resource',
);

export const undo = summarisedActivities<Activities>(
  sideEffect,
  {
    rollbackManifests: 'compensation: restore the manifests as they were before this run',
    deleteImageRepository: 'compensation: delete the image repository this run created',
    deleteProjectConfiguration: 'compensation: delete the configuration entries this run wrote',
    deleteSourceRepository: 'compensation: delete the source repository this run created',
    revokeProjectToken: 'compensation: revoke the CI token this run issued',
    unregisterLandingZone: 'compensation: unregister the landing zone',
    reviseLandingZone: 'compensation: restore the landing zone record',
    setLandingZoneState: 'compensation: make the landing zone active again',
  },
  'compensation: restore a landing-zone resource',
);

export const notifying = summarisedActivities<Activities>(fastStep, { sendNotification: 'notify the owners', notifyOwners: 'tell the owners their landing zone is ready' }, 'notify the owners');
