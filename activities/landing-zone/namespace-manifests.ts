/**
 * What a landing zone sets up in each of its namespaces: the Namespace (mesh injection on, labels
 * for tenant/project/environment/owners), a ResourceQuota, a LimitRange, a default-deny ingress
 * NetworkPolicy with allows for same-namespace traffic and the mesh ingress gateway, a
 * RoleBinding of the owners' group to the `edit` ClusterRole, and the mesh's security: STRICT
 * mutual TLS (PeerAuthentication) and an AuthorizationPolicy that admits only the namespace's own
 * workloads and the ingress gateway. Built as objects, validated against
 * the Kubernetes schemas, serialised for Go readers.
 */
import { LimitRange, Namespace, ResourceQuota } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { AuthorizationPolicy, PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1';
import type { RenderedManifest } from '../../shared/domain';
import type { Quota } from '../../shared/schemas/quota';
import { manifestInvalid } from '../adapters/helm/failures';
import { MANAGED_BY, PLATFORM_GATEWAY } from '../adapters/helm';
import { toYaml } from '../adapters/helm/yaml';


export interface ContainerDefaults {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface NamespaceSpec {
  tenant: string;
  project: string;
  environment: string;
  namespace: string;
  owners: { emails: string[]; group: string };
  quota: Quota;
  containerDefaults: ContainerDefaults;
  /** The landing-zone run that created it, so an object can be traced to its run. */
  landingZoneId: string;
}

const LABEL = 'platform.example.com';
/** The namespace of the mesh's ingress gateway (the gateway every VirtualService binds to). */
export const INGRESS_GATEWAY_NAMESPACE = PLATFORM_GATEWAY.split('/')[0] ?? 'istio-ingress';

interface Validatable {
  validate(): void;
  toJSON(): unknown;
}

function manifest(model: Validatable, kind: string, name: string, namespace: string): RenderedManifest {
  try {
    model.validate();
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).replace(/\bdata\//g, '');
    throw manifestInvalid(`${kind} ${name} in ${namespace} does not match its schema: ${detail}`);
  }
  return { apiVersion: (model.toJSON() as { apiVersion: string }).apiVersion, kind, name, namespace, component: 'namespace', yaml: toYaml(model.toJSON()) };
}

export function renderNamespaceManifests(spec: NamespaceSpec): RenderedManifest[] {
  const { namespace } = spec;
  const labels = {
    [`${LABEL}/tenant`]: spec.tenant,
    [`${LABEL}/project`]: spec.project,
    [`${LABEL}/environment`]: spec.environment,
    [`${LABEL}/owner-group`]: spec.owners.group,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
  const annotations = {
    // E-mail addresses are not valid label values; annotations carry them.
    [`${LABEL}/owners`]: spec.owners.emails.join(','),
    [`${LABEL}/landing-zone`]: spec.landingZoneId,
  };
  const meta = (name: string) => ({ name, namespace, labels: { 'app.kubernetes.io/managed-by': MANAGED_BY } });

  return [
    manifest(
      new Namespace({ metadata: { name: namespace, labels: { ...labels, 'istio-injection': 'enabled' }, annotations } }),
      'Namespace',
      namespace,
      namespace,
    ),
    manifest(
      new ResourceQuota({
        metadata: meta('default-quota'),
        spec: {
          hard: {
            'requests.cpu': spec.quota.requestsCpu,
            'requests.memory': spec.quota.requestsMemory,
            'limits.cpu': spec.quota.limitsCpu,
            'limits.memory': spec.quota.limitsMemory,
            pods: String(spec.quota.pods),
          },
        },
      }),
      'ResourceQuota',
      'default-quota',
      namespace,
    ),
    manifest(
      new LimitRange({
        metadata: meta('default-limits'),
        spec: {
          limits: [
            {
              type: 'Container',
              defaultRequest: { cpu: spec.containerDefaults.requests.cpu, memory: spec.containerDefaults.requests.memory },
              default: { cpu: spec.containerDefaults.limits.cpu, memory: spec.containerDefaults.limits.memory },
            },
          ],
        },
      }),
      'LimitRange',
      'default-limits',
      namespace,
    ),
    // Ingress only: denying egress by default would also cut DNS and the mesh's control plane.
    manifest(
      new NetworkPolicy({ metadata: meta('default-deny-ingress'), spec: { podSelector: {}, policyTypes: ['Ingress'] } }),
      'NetworkPolicy',
      'default-deny-ingress',
      namespace,
    ),
    manifest(
      new NetworkPolicy({ metadata: meta('allow-same-namespace'), spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] } }),
      'NetworkPolicy',
      'allow-same-namespace',
      namespace,
    ),
    manifest(
      new NetworkPolicy({
        metadata: meta('allow-mesh-ingress-gateway'),
        spec: {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_GATEWAY_NAMESPACE } },
                  podSelector: { matchLabels: { istio: 'ingressgateway' } },
                },
              ],
            },
          ],
        },
      }),
      'NetworkPolicy',
      'allow-mesh-ingress-gateway',
      namespace,
    ),
    manifest(
      new RoleBinding({
        metadata: meta('owners-edit'),
        subjects: [{ kind: 'Group', name: spec.owners.group, apiGroup: 'rbac.authorization.k8s.io' }],
        roleRef: { kind: 'ClusterRole', name: 'edit', apiGroup: 'rbac.authorization.k8s.io' },
      }),
      'RoleBinding',
      'owners-edit',
      namespace,
    ),
    // Every workload in the namespace accepts mesh traffic only (sidecars inject through the label above).
    manifest(new PeerAuthentication({ metadata: meta('default'), spec: { mtls: { mode: 'STRICT' } } }), 'PeerAuthentication', 'default', namespace),
    // An ALLOW policy denies whatever it does not match: same namespace and the ingress gateway only.
    manifest(
      new AuthorizationPolicy({
        metadata: meta('allow-namespace-and-gateway'),
        spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [namespace, INGRESS_GATEWAY_NAMESPACE] } }] }] },
      }),
      'AuthorizationPolicy',
      'allow-namespace-and-gateway',
      namespace,
    ),
  ];
}
