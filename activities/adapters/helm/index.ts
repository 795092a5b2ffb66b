export { createBuiltinChartRenderer, renderRelease } from './renderer';
export { PLATFORM_GATEWAY, MANAGED_BY, DEPLOYMENT_ID_ANNOTATION } from './chart-model';
