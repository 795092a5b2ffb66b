import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { DestinationRule, VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { parse } from 'yaml';
import { createBuiltinChartRenderer, PLATFORM_GATEWAY } from '../../activities/adapters/helm';
import { assertValid } from '../../activities/adapters/helm/schema-check';
import type { ReleaseSpec } from '../../activities/ports/chart-renderer';
import type { RenderedRelease } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import { DIGEST, releaseSpec } from './release-spec';

const renderer = createBuiltinChartRenderer();

/** The parsed YAML of the one manifest of `kind`. */
function objectOf(release: RenderedRelease, kind: string): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- tests walk parsed YAML freely; assertions check the shape
  const manifest = release.manifests.find((m) => m.kind === kind);
  assert.ok(manifest, `no ${kind} rendered`);
  return parse(manifest.yaml) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
}

async function renderFailure(spec: ReleaseSpec): Promise<ApplicationFailure> {
  try {
    await renderer.render(spec);
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the render to fail');
}

describe('built-in chart renderer', () => {
  it('when rendering a valid spec, then it yields five objects in apply order, app before mesh', async () => {
    const release = await renderer.render(releaseSpec());
    assert.deepEqual(
      release.manifests.map((m) => `${m.component}:${m.apiVersion}/${m.kind}/${m.namespace}/${m.name}`),
      [
        'app:v1/ServiceAccount/payments-dev/ledger',
        'app:v1/Service/payments-dev/ledger',
        'app:apps/v1/Deployment/payments-dev/ledger',
        'mesh:networking.istio.io/v1beta1/DestinationRule/payments-dev/ledger',
        'mesh:networking.istio.io/v1beta1/VirtualService/payments-dev/ledger',
      ],
    );
    assert.equal(release.namespace, 'payments-dev');
    assert.equal(release.pinnedImage, `registry.example.com/payments/ledger@${DIGEST}`);
  });

  it('when the YAML is parsed back, then every object still passes its Kubernetes or Istio schema', async () => {
    const release = await renderer.render(releaseSpec());
    const models = { ServiceAccount, Service, Deployment, DestinationRule, VirtualService };
    for (const manifest of release.manifests) {
      const { apiVersion, kind, ...data } = parse(manifest.yaml) as { apiVersion: string; kind: keyof typeof models };
      assert.equal(apiVersion, manifest.apiVersion);
      assert.doesNotThrow(() => new models[kind](data as never).validate(), `${kind} must validate`);
    }
  });

  it('when the Deployment is rendered, then it pins the digest and runs hardened with probes and resources', async () => {
    const deployment = objectOf(await renderer.render(releaseSpec()), 'Deployment');
    assert.equal(deployment.metadata.annotations['platform.example.com/deployment-id'], 'deploy.payments.ledger.dev.0123456789abcdef');
    assert.deepEqual(deployment.metadata.labels, {
      'app.kubernetes.io/name': 'ledger',
      'app.kubernetes.io/instance': 'ledger',
      'app.kubernetes.io/version': '1.4.2',
      'app.kubernetes.io/managed-by': 'deploy-platform',
      'platform.example.com/project': 'payments',
      'platform.example.com/environment': 'dev',
    });
    assert.deepEqual(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'ledger', 'app.kubernetes.io/instance': 'ledger' });
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'ledger');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const [container] = pod.containers;
    assert.equal(container.image, `registry.example.com/payments/ledger@${DIGEST}`);
    assert.doesNotMatch(container.image, /:1\.4\.2/);
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.deepEqual(probe.httpGet, { path: '/healthz', port: 'http' });
    }
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(container.resources.limits.memory);
  });

  it('when the Service and ServiceAccount are rendered, then the port is named http and no token is mounted', async () => {
    const release = await renderer.render(releaseSpec());
    const service = objectOf(release, 'Service');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': 'ledger', 'app.kubernetes.io/instance': 'ledger' });
    assert.equal(objectOf(release, 'ServiceAccount').automountServiceAccountToken, false);
  });

  it('when the mesh objects are rendered, then the route enters through the platform gateway with mutual TLS', async () => {
    const release = await renderer.render(releaseSpec());
    const virtualService = objectOf(release, 'VirtualService');
    assert.equal(PLATFORM_GATEWAY, 'istio-ingress/platform-gateway');
    assert.deepEqual(virtualService.spec.gateways, [PLATFORM_GATEWAY]);
    assert.deepEqual(virtualService.spec.hosts, ['ledger.payments.example.com']);
    assert.deepEqual(virtualService.spec.http[0].match, [{ uri: { prefix: '/api' } }]);
    assert.deepEqual(virtualService.spec.http[0].route, [{ destination: { host: 'ledger.payments-dev.svc.cluster.local', port: { number: 8080 } } }]);
    const destinationRule = objectOf(release, 'DestinationRule');
    assert.equal(destinationRule.spec.host, 'ledger.payments-dev.svc.cluster.local');
    assert.deepEqual(destinationRule.spec.trafficPolicy, { tls: { mode: 'ISTIO_MUTUAL' } });
  });

  it('when the same spec is rendered twice by separate renderers, then the release and its hash are identical', async () => {
    const first = await createBuiltinChartRenderer().render(releaseSpec());
    const second = await createBuiltinChartRenderer().render(releaseSpec());
    assert.match(first.contentHash, /^[a-f0-9]{64}$/);
    assert.deepEqual(second, first);
  });

  it('when only the digest changes, then the hash, the chart version and the pinned image change', async () => {
    const before = await renderer.render(releaseSpec());
    const digest = `sha256:${'f'.repeat(64)}`;
    const after = await renderer.render(releaseSpec({ image: { reference: `r@${digest}`, repository: 'registry.example.com/payments/ledger', tag: '1.4.2', digest } }));
    assert.notEqual(after.contentHash, before.contentHash);
    assert.equal(before.chart.version, '0.1.0+0123456789ab');
    assert.equal(after.chart.version, '0.1.0+ffffffffffff');
    assert.equal(after.pinnedImage, `registry.example.com/payments/ledger@${digest}`);
  });

  it('when the image has no tag or a tag that is no label value, then the version is the short digest', async () => {
    const { image } = releaseSpec().request;
    const untagged = await renderer.render(releaseSpec({ image: { reference: image.reference, repository: image.repository, digest: DIGEST } }));
    assert.equal(untagged.chart.appVersion, '0123456789ab');
    const oddTag = await renderer.render(releaseSpec({ image: { ...image, tag: '_build-7' } }));
    assert.equal(oddTag.chart.appVersion, '0123456789ab');
    assert.equal(objectOf(oddTag, 'Deployment').metadata.labels['app.kubernetes.io/version'], '0123456789ab');
  });

  for (const [when, spec, problem] of [
    ['the port is 70000', releaseSpec({ port: 70_000 }), /port 70000 must be an integer from 1 to 65535/],
    ['the port is one the Istio sidecar uses', releaseSpec({ port: 15_001 }), /port 15001 is reserved by the Istio sidecar/],
    ['the service name is not a DNS label', releaseSpec({ service: 'Ledger_Service' }), /service "Ledger_Service" must be a DNS label/],
    ['the service name is longer than 63 characters', releaseSpec({ service: 'a'.repeat(64) }), /must be a DNS label of at most 63/],
    ['the namespace is not a DNS label', releaseSpec({}, { namespace: 'payments.dev' }), /namespace "payments.dev"/],
    ['the repository smuggles in a tag', releaseSpec({ image: { reference: 'x', repository: 'registry.example.com/ledger:latest', digest: DIGEST } }), /must be a repository without tag/],
    ['the digest is not sha256', releaseSpec({ image: { reference: 'x', repository: 'registry.example.com/ledger', digest: 'md5:abc' } }), /pinned by a sha256 digest/],
    ['the route host is not a host name', releaseSpec({ route: { host: 'not a host', path: '/' } }), /route host "not a host"/],
  ] as const) {
    it(`when ${when}, then rendering fails with a non-retryable ManifestInvalid naming the problem`, async () => {
      const failure = await renderFailure(spec);
      assert.equal(failure.type, ErrorType.ManifestInvalid);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, problem);
    });
  }

  it('when several inputs are wrong, then one failure names all of them', async () => {
    const failure = await renderFailure(releaseSpec({ port: 0, service: 'BAD' }));
    assert.match(failure.message, /service "BAD".*port 0/);
  });

  it('when an object breaks its schema, then ManifestInvalid names the kind, name and schema error', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ledger', namespace: 'payments-dev' },
      spec: { replicas: 'two' as unknown as number, selector: {}, template: {} },
    } as const;
    assert.throws(
      () => assertValid(deployment),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === ErrorType.ManifestInvalid &&
        error.nonRetryable &&
        /^Deployment ledger in namespace payments-dev does not match its schema: spec\/replicas must be integer/.test(error.message),
    );
    const destinationRule = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'ledger' },
      spec: { host: 'x', trafficPolicy: { tls: { mode: 'STRICT' as 'ISTIO_MUTUAL' } } },
    } as const;
    assert.throws(() => assertValid(destinationRule), /DestinationRule ledger does not match its schema: spec\/trafficPolicy\/tls\/mode/);
  });
});
