/**
 * The chart's objects built in TypeScript from the chart model: the same objects the chart's
 * templates make `helm template` print (a test compares them when a helm binary is at hand).
 * Typed with the kubernetes-models interfaces, so a misspelt field fails to compile; the JSON
 * schemas those packages validate against do not reject unknown fields.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IService, IServiceAccount } from 'kubernetes-models/v1';
import type { IDestinationRule, IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import type { RenderedManifest } from '../../../shared/domain';
import { DEPLOYMENT_ID_ANNOTATION, MANAGED_BY, type ChartModel } from './chart-model';

export type PlatformObject = IDeployment | IService | IServiceAccount | IVirtualService | IDestinationRule;

export interface ComponentObject {
  component: RenderedManifest['component'];
  object: PlatformObject;
}

export function selectorLabels(chart: ChartModel): Record<string, string> {
  return { 'app.kubernetes.io/name': chart.name, 'app.kubernetes.io/instance': chart.releaseName };
}

function labels(chart: ChartModel): Record<string, string> {
  return {
    ...selectorLabels(chart),
    'app.kubernetes.io/version': chart.appVersion,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...chart.values.labels,
  };
}

function metadata(chart: ChartModel) {
  return {
    name: chart.name,
    namespace: chart.values.namespace,
    labels: labels(chart),
    annotations: { [DEPLOYMENT_ID_ANNOTATION]: chart.values.deploymentId },
  };
}

export function serviceHost(chart: ChartModel): string {
  return `${chart.name}.${chart.values.namespace}.svc.cluster.local`;
}

function deployment(chart: ChartModel): IDeployment {
  const { values } = chart;
  const seccompProfile = { type: 'RuntimeDefault' as const };
  const probe = { httpGet: { path: values.healthPath, port: 'http' }, timeoutSeconds: 2, failureThreshold: 3 };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(chart),
    spec: {
      replicas: values.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(chart) },
      // Never fewer ready pods than asked for while a new image rolls out.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(chart) },
        spec: {
          serviceAccountName: chart.name,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile },
          containers: [
            {
              name: chart.name,
              image: `${values.image.repository}@${values.image.digest}`,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: values.port, protocol: 'TCP' }],
              readinessProbe: { ...probe, periodSeconds: 5 },
              livenessProbe: { ...probe, initialDelaySeconds: 10, periodSeconds: 10 },
              resources: values.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile,
              },
              // A read-only root file system still needs somewhere to write temporary files.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

function service(chart: ChartModel): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(chart),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(chart),
      // The port name `http` is how Istio knows the protocol without sniffing.
      ports: [{ name: 'http', port: chart.values.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

function serviceAccount(chart: ChartModel): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadata(chart),
    // The application has no business with the Kubernetes API.
    automountServiceAccountToken: false,
  };
}

function virtualService(chart: ChartModel): IVirtualService {
  const { route, port } = chart.values;
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: metadata(chart),
    spec: {
      hosts: [route.host],
      gateways: [route.gateway],
      http: [
        {
          name: chart.name,
          match: [{ uri: { prefix: route.path } }],
          route: [{ destination: { host: serviceHost(chart), port: { number: port } } }],
        },
      ],
    },
  };
}

function destinationRule(chart: ChartModel): IDestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: metadata(chart),
    spec: {
      host: serviceHost(chart),
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
    },
  };
}

/**
 * In apply order: the service account and service exist before pods need them, and the
 * destination rule before the virtual service sends traffic under it.
 */
export function buildObjects(chart: ChartModel): ComponentObject[] {
  return [
    { component: 'app', object: serviceAccount(chart) },
    { component: 'app', object: service(chart) },
    { component: 'app', object: deployment(chart) },
    { component: 'mesh', object: destinationRule(chart) },
    { component: 'mesh', object: virtualService(chart) },
  ];
}
