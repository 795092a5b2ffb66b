// The worker's workflow bundle entry: every workflow the platform runs, and nothing else.
export { deployWorkflow } from './deploy/workflow';
export { deployLaneWorkflow } from './deploy/lane';
export { landingZoneWorkflow } from './landing-zone/workflow';
export { landingZoneUpdateWorkflow } from './landing-zone/update';
export { landingZoneDecommissionWorkflow } from './landing-zone/decommission';
export { approvalSweeperWorkflow } from './approvals/sweeper';
