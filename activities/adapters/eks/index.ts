export {
  CLUSTER_ID_HEADER,
  EKS_TOKEN_LIFETIME_MS,
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_REFRESH_AFTER_MS,
  createEksTokenProvider,
  defaultStsOrigin,
  type EksTokenProvider,
  type EksTokenProviderOptions,
} from './token';
export {
  describeEksCluster,
  resolveEksEndpoint,
  translateDescribeClusterError,
  type EksClusterEndpoint,
  type EksClusterRef,
  type EksEndpointOverride,
} from './cluster';
