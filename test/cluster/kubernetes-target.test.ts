/**
 * The Kubernetes cluster target against a real control plane (kube-apiserver + etcd +
 * controller-manager + scheduler + kwok, Istio CRDs installed), acting as the worker's own
 * identity, which holds only the permissions in deploy/kubernetes/rbac.yaml.
 *
 *   npm run test:cluster
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createBuiltinChartRenderer } from '../../activities/adapters/helm';
import { createKubernetesClusterTarget } from '../../activities/adapters/kubernetes';
import { renderNamespaceManifests } from '../../activities/landing-zone/namespace-manifests';
import type { ApplyRequest, ClusterTarget, TargetLocation } from '../../activities/ports/cluster-target';
import type { RenderedManifest } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import { freePort } from '../../scripts/lib/processes';
import { releaseSpec } from '../render/release-spec';
import { startControlPlane, type ControlPlane } from '../support/control-plane';

let cluster: ControlPlane;
let target: ClusterTarget;
const renderer = createBuiltinChartRenderer();
const CLUSTER = 'test';
const NAMESPACE = 'payments-dev';

before(async () => {
  cluster = await startControlPlane();
  target = targetAs(cluster.workerKubeconfig);
});
after(async () => {
  await cluster?.stop();
});

function targetAs(kubeconfig: string, rolloutTimeoutMs = 20_000): ClusterTarget {
  return createKubernetesClusterTarget({ clusters: { [CLUSTER]: { kubeconfig: { file: kubeconfig } } }, pollIntervalMs: 200, defaultRolloutTimeoutMs: rolloutTimeoutMs });
}

let sequence = 0;
const key = (step: string) => `deploy.payments.ledger.dev/run-${++sequence}/${step}`;
const audit = { title: 'test', deploymentId: 'deploy.payments.ledger.dev', runId: 'run' };

function namespaceManifests(namespace = NAMESPACE, pods = 10): RenderedManifest[] {
  return renderNamespaceManifests({
    tenant: 'retail',
    project: 'payments',
    environment: 'dev',
    namespace,
    owners: { emails: ['owner@example.com'], group: 'team-payments' },
    quota: { requestsCpu: '4', requestsMemory: '8Gi', limitsCpu: '8', limitsMemory: '16Gi', pods },
    containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    landingZoneId: 'landing-zone.payments',
  });
}

async function release(overrides: Parameters<typeof releaseSpec>[0] = {}, namespace = NAMESPACE) {
  return renderer.render(releaseSpec(overrides, { namespace }));
}

const appAt = (namespace = NAMESPACE, service = 'ledger'): TargetLocation => ({ cluster: CLUSTER, namespace, service, component: 'app' });
const meshAt = (namespace = NAMESPACE, service = 'ledger'): TargetLocation => ({ cluster: CLUSTER, namespace, service, component: 'mesh' });
const namespaceAt = (namespace = NAMESPACE): TargetLocation => ({ cluster: CLUSTER, namespace, component: 'namespace' });

function applyRequest(location: TargetLocation, manifests: RenderedManifest[], idempotencyKey = key('apply')): ApplyRequest {
  return { idempotencyKey, location, manifests: manifests.filter((m) => m.component === location.component), audit };
}

// Parsed JSON of the API server: each test reads the fields it asserts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(path: string): Promise<any> {
  const result = await cluster.adminRequest('GET', path);
  return result.status === 404 ? undefined : result.body;
}

async function rejectsWith(promise: Promise<unknown>, type: string): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type, error.message);
    assert.equal(error.nonRetryable, true);
    return error;
  }
  assert.fail(`expected a ${type} failure`);
}

const digest = (n: number) => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;
const image = (n: number) => ({ reference: `registry.example.com/payments/ledger@${digest(n)}`, repository: 'registry.example.com/payments/ledger', digest: digest(n) });

describe('Kubernetes cluster target on a real control plane', () => {
  it('when a landing zone namespace is applied, then quota, limits, policies, owners binding and STRICT mTLS exist and verify', async () => {
    const manifests = namespaceManifests();
    const applied = await target.apply(applyRequest(namespaceAt(), manifests));
    assert.equal(applied.changed, true);
    assert.equal(applied.previousRevision, null);
    assert.equal((await get(`/api/v1/namespaces/${NAMESPACE}`)).metadata.labels['istio-injection'], 'enabled');
    assert.equal((await get(`/api/v1/namespaces/${NAMESPACE}/resourcequotas/default-quota`)).spec.hard.pods, '10');
    assert.ok(await get(`/api/v1/namespaces/${NAMESPACE}/limitranges/default-limits`));
    assert.ok(await get(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies/default-deny-ingress`));
    assert.equal((await get(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/rolebindings/owners-edit`)).roleRef.name, 'edit');
    assert.equal((await get(`/apis/security.istio.io/v1beta1/namespaces/${NAMESPACE}/peerauthentications/default`)).spec.mtls.mode, 'STRICT');
    assert.ok(await get(`/apis/security.istio.io/v1beta1/namespaces/${NAMESPACE}/authorizationpolicies/allow-namespace-and-gateway`));
    const verified = await target.verify({ location: namespaceAt(), manifests, revision: applied.revision });
    assert.equal(verified.healthy, true, verified.detail);
    const inventory = await target.inventory({ cluster: CLUSTER, namespace: NAMESPACE });
    assert.deepEqual(inventory, { services: [], namespaceExists: true });
  });

  it('when a release is deployed first, then the Deployment becomes Available, the Istio objects exist, and verify reports the rollout', async () => {
    const rendered = await release({ image: image(1) });
    const app = await target.apply(applyRequest(appAt(), rendered.manifests));
    const mesh = await target.apply(applyRequest(meshAt(), rendered.manifests));
    const progress: string[] = [];
    const verified = await target.verify({ location: appAt(), manifests: rendered.manifests, revision: app.revision }, (detail) => progress.push(detail));
    assert.equal(verified.healthy, true, verified.detail);
    assert.match(verified.detail, /2\/2 available/);
    const deployment = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    assert.equal(deployment.status.availableReplicas, 2);
    assert.ok(deployment.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'deploy-platform' && f.operation === 'Apply'));
    assert.equal((await get(`/apis/networking.istio.io/v1beta1/namespaces/${NAMESPACE}/virtualservices/ledger`)).spec.http[0].route[0].destination.host, `ledger.${NAMESPACE}.svc.cluster.local`);
    assert.ok(await get(`/apis/networking.istio.io/v1beta1/namespaces/${NAMESPACE}/destinationrules/ledger`));
    assert.equal((await target.verify({ location: meshAt(), manifests: rendered.manifests, revision: mesh.revision })).healthy, true);
    assert.deepEqual((await target.inventory({ cluster: CLUSTER, namespace: NAMESPACE })).services, ['ledger']);
  });

  it('when the same release is applied again, then nothing changes: no new generation, changed:false', async () => {
    const before = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    const rendered = await release({ image: image(1) });
    const again = await target.apply(applyRequest(appAt(), rendered.manifests));
    assert.equal(again.changed, false);
    const afterwards = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    assert.equal(afterwards.metadata.generation, before.metadata.generation);
    assert.equal(afterwards.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('when an apply is retried with the same key, then it answers the first result and applies nothing twice', async () => {
    const rendered = await release({ image: image(2) });
    const request = applyRequest(appAt(), rendered.manifests);
    const first = await target.apply(request);
    const generation = (await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`)).metadata.generation;
    const retried = await target.apply(request);
    assert.deepEqual(retried, first);
    assert.equal((await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`)).metadata.generation, generation);
    assert.equal((await target.verify({ location: appAt(), manifests: rendered.manifests, revision: first.revision })).healthy, true);
  });

  it('when a rollout never becomes available, then verify fails with the reason and the rollback restores the previous Deployment', async () => {
    // A quota of 2 pods leaves no room for the surge pod a rolling update of 2 replicas needs.
    await target.apply(applyRequest(namespaceAt(), namespaceManifests(NAMESPACE, 2)));
    const previous = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    const rendered = await release({ image: image(3) });
    const request = applyRequest(appAt(), rendered.manifests);
    const applied = await target.apply(request);
    const verified = await targetAs(cluster.workerKubeconfig, 4_000).verify({ location: appAt(), manifests: rendered.manifests, revision: applied.revision });
    assert.equal(verified.healthy, false);
    assert.match(verified.detail, /rollout not complete after 4 s/);
    assert.match(verified.detail, /exceeded quota/);

    const undone = await target.rollback({ idempotencyKey: request.idempotencyKey, audit, location: appAt() });
    assert.equal(undone.rolledBack, true);
    assert.match(undone.detail ?? '', /restored Deployment payments-dev\/ledger/);
    const restored = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    assert.equal(restored.spec.template.spec.containers[0].image, previous.spec.template.spec.containers[0].image);
    assert.match(restored.spec.template.spec.containers[0].image, new RegExp(digest(2)));
    assert.deepEqual(await target.rollback({ idempotencyKey: request.idempotencyKey, audit }), undone, 'a repeated rollback answers the first one');
    await target.apply(applyRequest(namespaceAt(), namespaceManifests(NAMESPACE, 10)));
    const healthy = await target.verify({ location: appAt(), manifests: (await release({ image: image(2) })).manifests, revision: restored.metadata.annotations['deploy-platform.io/apply'] });
    assert.equal(healthy.healthy, true, healthy.detail);
  });

  it('when a later run changed the objects, then undoing the earlier run leaves them as the later run applied them', async () => {
    const earlier = applyRequest(appAt(), (await release({ image: image(4) })).manifests);
    await target.apply(earlier);
    const later = applyRequest(appAt(), (await release({ image: image(5) })).manifests);
    await target.apply(later);
    const undone = await target.rollback({ idempotencyKey: earlier.idempotencyKey, audit });
    assert.equal(undone.rolledBack, true);
    assert.match(undone.detail ?? '', /left as another change made them: .*Deployment payments-dev\/ledger \(applied since by apply/);
    const live = await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger`);
    assert.match(live.spec.template.spec.containers[0].image, new RegExp(digest(5)));
  });

  it('when a new service is undone, then the objects it created are deleted', async () => {
    const rendered = await release({ service: 'audit', image: image(6) });
    const request = applyRequest(appAt(NAMESPACE, 'audit'), rendered.manifests);
    await target.apply(request);
    assert.ok(await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/audit`));
    await target.rollback({ idempotencyKey: request.idempotencyKey, audit });
    assert.equal(await get(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/audit`), undefined);
    assert.equal(await get(`/api/v1/namespaces/${NAMESPACE}/services/audit`), undefined);
  });

  it('when another field manager owns a field, then the apply fails with a typed conflict naming the field and the manager', async () => {
    await cluster.adminRequest(
      'PATCH',
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/ledger?fieldManager=hpa-tuner&force=true`,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ledger', namespace: NAMESPACE }, spec: { replicas: 3 } },
      'application/apply-patch+yaml',
    );
    const failure = await rejectsWith(target.apply(applyRequest(appAt(), (await release({ image: image(7) })).manifests)), ErrorType.ClusterApplyConflict);
    assert.match(failure.message, /\.spec\.replicas/);
    assert.match(failure.message, /hpa-tuner/);
  });

  it('when the namespace does not exist, then the apply fails saying so', async () => {
    const failure = await rejectsWith(target.apply(applyRequest(appAt('nowhere-dev'), (await release({}, 'nowhere-dev')).manifests)), ErrorType.ClusterTargetRejected);
    assert.match(failure.message, /namespace nowhere-dev does not exist/);
  });

  it('when the identity has no permission, then the apply fails as access denied naming the verb and object', async () => {
    const failure = await rejectsWith(targetAs(cluster.nobodyKubeconfig).apply(applyRequest(appAt(), (await release({ image: image(8) })).manifests)), ErrorType.ClusterAccessDenied);
    assert.match(failure.message, /refused to let the platform read the apply record|refused to let the platform (read|apply)/);
    assert.match(failure.message, /403/);
  });

  it('when the API server is unreachable, then the failure is retryable and says so', async () => {
    const port = await freePort();
    const file = join(cluster.dir, 'unreachable.kubeconfig');
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: x, user: u}}]\ncurrent-context: x\n`);
    await assert.rejects(targetAs(file).apply(applyRequest(appAt(), (await release({ image: image(9) })).manifests)), (error: Error) => {
      assert.ok(!(error instanceof ApplicationFailure), 'a plain Error is retried by Temporal');
      assert.match(error.message, /unreachable \(ECONNREFUSED\)/);
      return true;
    });
  });

  it('when a decommission clears a service and its namespace, then they are deleted, and undoing brings the service back', async () => {
    const remove = applyRequest(meshAt(), []);
    const removed = await target.apply(remove);
    assert.equal(removed.changed, true);
    assert.equal(await get(`/apis/networking.istio.io/v1beta1/namespaces/${NAMESPACE}/virtualservices/ledger`), undefined);
    await target.rollback({ idempotencyKey: remove.idempotencyKey, audit });
    assert.ok(await get(`/apis/networking.istio.io/v1beta1/namespaces/${NAMESPACE}/virtualservices/ledger`));

    await target.apply(applyRequest(namespaceAt('scratch-dev'), namespaceManifests('scratch-dev')));
    const clear = await target.apply(applyRequest(namespaceAt('scratch-dev'), []));
    assert.equal(clear.changed, true);
    const ns = await get('/api/v1/namespaces/scratch-dev');
    assert.ok(ns === undefined || ns.status.phase === 'Terminating', JSON.stringify(ns?.status));
  });

  it('when Istio is not installed, then wiring the mesh fails with a typed failure saying so', async () => {
    for (const crd of ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io']) {
      await cluster.adminRequest('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    }
    for (let i = 0; i < 50 && (await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io')); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const fresh = targetAs(cluster.workerKubeconfig);
    const failure = await rejectsWith(fresh.apply(applyRequest(meshAt(), (await release({ image: image(10) })).manifests)), ErrorType.ClusterApiMissing);
    assert.match(failure.message, /Istio is not installed/);
  });
});
