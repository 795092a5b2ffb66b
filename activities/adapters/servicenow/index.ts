/** ServiceNow change management: the real Table API adapter (also used against the simulator). */
export { changeSysIdFor, createServiceNowChangeManagement, type ServiceNowConfig } from './change-management';
export { ServiceNowUnavailableError } from './failures';
