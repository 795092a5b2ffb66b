/**
 * The release spec turned into a chart: its metadata and its values. Both the chart files and the
 * TypeScript-rendered manifests are derived from this one model, so they cannot disagree.
 *
 * It also refuses inputs the Kubernetes and Istio schemas do not catch (they have no patterns for
 * names and no ranges for ports) but the API server or the mesh would.
 */
import { parseImageReference } from '../../../shared/schemas/deployment';
import type { ReleaseSpec } from '../../ports/chart-renderer';
import { manifestInvalid } from './failures';

/** Every route enters the mesh through the platform's shared ingress gateway. */
export const PLATFORM_GATEWAY = 'istio-ingress/platform-gateway';
export const MANAGED_BY = 'deploy-platform';
export const DEPLOYMENT_ID_ANNOTATION = 'platform.example.com/deployment-id';
export const PROJECT_LABEL = 'platform.example.com/project';
export const ENVIRONMENT_LABEL = 'platform.example.com/environment';
export const HEALTH_PATH = '/healthz';

/** Ports the Istio sidecar listens on; an application port among them would never get traffic. */
const ISTIO_RESERVED_PORTS: ReadonlySet<number> = new Set([15000, 15001, 15004, 15006, 15008, 15020, 15021, 15053, 15090]);

/** RFC 1035 label: what a Service name must be (a Deployment's is looser, so this fits all five). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const URL_PATH = /^\/[A-Za-z0-9._~\-/]*$/;

export interface ChartValues {
  namespace: string;
  deploymentId: string;
  image: { repository: string; digest: string };
  replicas: number;
  port: number;
  healthPath: string;
  route: { host: string; path: string; gateway: string };
  resources: {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
  };
  /** Extra labels on every object, beside the app.kubernetes.io ones. */
  labels: Record<string, string>;
}

export interface ChartModel {
  name: string;
  /** SemVer; the build metadata names the image, so two images never share a chart version. */
  version: string;
  /** Doubles as the app.kubernetes.io/version label, so it is always a valid label value. */
  appVersion: string;
  description: string;
  /** Helm's release name; `helm template <releaseName> <chart>` renders the same objects. */
  releaseName: string;
  values: ChartValues;
}

function check(problems: string[], ok: boolean, problem: string): void {
  if (!ok) problems.push(problem);
}

function checkSpec({ request, namespace, deploymentId }: ReleaseSpec): string[] {
  const problems: string[] = [];
  const { service, project, environment, image, port, replicas, route } = request;
  check(problems, service.length <= 63 && DNS_1035_LABEL.test(service), `service "${service}" must be a DNS label of at most 63 characters (a-z, 0-9, -, starting with a letter)`);
  check(problems, namespace.length <= 63 && DNS_1123_LABEL.test(namespace), `namespace "${namespace}" must be a DNS label of at most 63 characters`);
  for (const [field, value] of [['project', project], ['environment', environment]] as const) {
    check(problems, value.length <= 63 && LABEL_VALUE.test(value), `${field} "${value}" must be a valid label value (at most 63 characters)`);
  }
  check(problems, Number.isInteger(port) && port >= 1 && port <= 65_535, `port ${port} must be an integer from 1 to 65535`);
  check(problems, !ISTIO_RESERVED_PORTS.has(port), `port ${port} is reserved by the Istio sidecar`);
  check(problems, Number.isInteger(replicas) && replicas >= 0 && replicas <= 10_000, `replicas ${replicas} must be an integer from 0 to 10000`);
  const parsed = parseImageReference(`${image.repository}@${image.digest}`);
  check(problems, parsed !== undefined && parsed.tag === undefined && parsed.repository === image.repository, `image "${image.repository}@${image.digest}" must be a repository without tag pinned by a sha256 digest`);
  check(problems, route.host.length <= 253 && HOST.test(route.host), `route host "${route.host}" must be a fully qualified lowercase host name`);
  check(problems, route.path.length <= 200 && URL_PATH.test(route.path), `route path "${route.path}" must be an absolute URL path`);
  check(problems, deploymentId.length > 0 && deploymentId.length <= 512 && !/[\s]/.test(deploymentId), 'deployment id must be 1 to 512 characters without whitespace');
  return problems;
}

function appVersionOf(tag: string | undefined, digest: string): string {
  return tag && tag.length <= 63 && LABEL_VALUE.test(tag) ? tag : shortDigest(digest);
}

function shortDigest(digest: string): string {
  return digest.slice('sha256:'.length, 'sha256:'.length + 12);
}

/** Throws ManifestInvalid naming every problem at once, so one fix-up round is enough. */
export function chartModel(spec: ReleaseSpec): ChartModel {
  const problems = checkSpec(spec);
  if (problems.length > 0) throw manifestInvalid(`cannot render a release for ${spec.request.service}: ${problems.join('; ')}`);
  const { request, namespace, deploymentId } = spec;
  return {
    name: request.service,
    version: `0.1.0+${shortDigest(request.image.digest)}`,
    appVersion: appVersionOf(request.image.tag, request.image.digest),
    description: `${request.service} of project ${request.project}, packaged by the deployment platform`,
    releaseName: request.service,
    values: {
      namespace,
      deploymentId,
      image: { repository: request.image.repository, digest: request.image.digest },
      replicas: request.replicas,
      port: request.port,
      healthPath: request.healthPath ?? HEALTH_PATH,
      route: { host: request.route.host, path: request.route.path, gateway: PLATFORM_GATEWAY },
      resources: {
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: '1', memory: '512Mi' },
      },
      labels: { [PROJECT_LABEL]: request.project, [ENVIRONMENT_LABEL]: request.environment },
    },
  };
}
