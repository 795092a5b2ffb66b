/**
 * How the worker reaches one cluster's API: a kubeconfig (file and context) for any cluster, or
 * Amazon EKS (DescribeCluster for the endpoint and CA, a fresh EKS bearer token before the old one
 * expires). An endpoint/CA override serves tests and private endpoints.
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { createEksTokenProvider, resolveEksEndpoint } from '../eks';
import type { ClusterConnections } from '../../../shared/config/environments';
import { loadKubernetesClient } from './client-loader';

/** One entry of the environment policy file's `clusters:` section. */
export type ClusterConnectionSpec = ClusterConnections[string];

export interface ClusterConnection {
  /** The API server URL, for messages. */
  readonly server: string;
  /** A client for the current credentials (an EKS token is renewed before it expires). */
  objects(): Promise<KubernetesObjectApi>;
  config(): Promise<KubeConfig>;
}

export function describeConnection(spec: ClusterConnectionSpec): string {
  if ('eks' in spec) return `EKS cluster ${spec.eks.name} in ${spec.eks.region}`;
  return `kubeconfig ${spec.kubeconfig.file ?? '(default)'}${spec.kubeconfig.context ? ` context ${spec.kubeconfig.context}` : ''}`;
}

export async function connectCluster(name: string, spec: ClusterConnectionSpec): Promise<ClusterConnection> {
  const k8s = await loadKubernetesClient();
  if ('kubeconfig' in spec) {
    const { file, context } = spec.kubeconfig;
    const kc = new k8s.KubeConfig();
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    if (context) kc.setCurrentContext(context);
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`cluster ${name}: ${describeConnection(spec)} names no cluster server`);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    return { server, objects: async () => api, config: async () => kc };
  }

  const eks = spec.eks;
  const endpoint = await resolveEksEndpoint({
    clusterName: eks.name,
    region: eks.region,
    ...(eks.endpoint ? { endpoint: eks.endpoint } : {}),
    override: {
      ...(eks.server ? { server: eks.server } : {}),
      ...(eks.caFile ? { caData: readFileSync(eks.caFile).toString('base64') } : {}),
    },
  });
  const tokens = createEksTokenProvider({ clusterName: eks.name, region: eks.region, ...(eks.stsEndpoint ? { stsEndpoint: eks.stsEndpoint } : {}) });
  let current: { token: string; kc: KubeConfig; api: KubernetesObjectApi } | undefined;
  const refresh = async (): Promise<{ kc: KubeConfig; api: KubernetesObjectApi }> => {
    const token = await tokens.token();
    if (current === undefined || current.token !== token) {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name, server: endpoint.server, caData: endpoint.caData, skipTLSVerify: false }],
        users: [{ name: 'deploy-platform', token }],
        contexts: [{ name, cluster: name, user: 'deploy-platform' }],
        currentContext: name,
      });
      current = { token, kc, api: k8s.KubernetesObjectApi.makeApiClient(kc) };
    }
    return current;
  };
  return { server: endpoint.server, objects: async () => (await refresh()).api, config: async () => (await refresh()).kc };
}
