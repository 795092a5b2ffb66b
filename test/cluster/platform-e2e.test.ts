/**
 * The platform end to end on its production adapters: CLUSTER_TARGET=kubernetes, SCANNER=ecr,
 * REGISTRY=ecr. The worker reaches a real control plane as an EKS cluster: its bearer token is the
 * EKS token (presigned STS GetCallerIdentity), which the API server checks through a TokenReview
 * webhook that verifies it the way aws-iam-authenticator does, calling the URL against moto's STS.
 * ECR is moto. ServiceNow is the simulator, over HTTP, with its signed webhook.
 *
 *   npm run test:cluster
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeRepositoriesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { deploymentBody, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startControlPlane, type ControlPlane } from '../support/control-plane';
import { startEksTokenWebhook, writeWebhookConfig, type EksTokenWebhook } from '../support/eks-token-webhook';
import { MOTO_CREDENTIALS, MOTO_DEFAULT_CALLER_ARN, startEksMoto, type EksMoto } from '../aws/eks-moto';

const REGION = 'us-east-1';
const EKS_CLUSTER = 'platform-test';

let moto: EksMoto;
let webhook: EksTokenWebhook;
let cluster: ControlPlane;
let platform: TestPlatform;
let ecr: ECRClient;
let webhookDir: string | undefined;

before(async () => {
  moto = await startEksMoto();
  webhook = await startEksTokenWebhook({
    stsHost: moto.stsHost,
    stsProtocol: 'http:',
    clusterId: EKS_CLUSTER,
    identities: { [MOTO_DEFAULT_CALLER_ARN]: { username: 'deploy-platform-worker', groups: ['deploy-platform:workers'] } },
    acceptNonCanonicalArns: [MOTO_DEFAULT_CALLER_ARN],
    signingKeys: { [MOTO_CREDENTIALS.accessKeyId]: { secretAccessKey: MOTO_CREDENTIALS.secretAccessKey } },
  });
  webhookDir = mkdtempSync(join(tmpdir(), 'eks-webhook-'));
  const webhookConfig = join(webhookDir, 'webhook.kubeconfig');
  writeWebhookConfig(webhookConfig, webhook.url);
  cluster = await startControlPlane({ tokenWebhookConfigFile: webhookConfig });

  // The worker's AWS identity comes from the SDK's default chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = REGION;
  ecr = new ECRClient({ region: REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });

  platform = await startTestPlatform({
    environments: `
environments:
  staging:
    cluster: eks-test
    approval: { required: true, deadline: 1h }
    scan: { required: true, blockSeverities: [CRITICAL] }
    rollout: { timeout: 15s }
  prod:
    cluster: eks-test
    approval: { required: true, deadline: 1h }
    scan: { required: true, blockSeverities: [CRITICAL, HIGH] }
clusters:
  eks-test:
    eks:
      name: ${EKS_CLUSTER}
      region: ${REGION}
      endpoint: ${moto.endpoint}
      stsEndpoint: ${moto.stsEndpoint}
      server: ${cluster.server}
      caFile: ${cluster.caFile}
`,
    env: { CLUSTER_TARGET: 'kubernetes', SCANNER: 'ecr', REGISTRY: 'ecr', AWS_REGION: REGION, ECR_ENDPOINT: moto.endpoint },
  });
});

after(async () => {
  await platform?.stop();
  await cluster?.stop();
  await webhook?.stop();
  await moto?.stop();
  if (webhookDir) rmSync(webhookDir, { recursive: true, force: true });
});

// Parsed JSON of the API server: each test reads the fields it asserts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(path: string): Promise<any> {
  const result = await cluster.adminRequest('GET', path);
  return result.status === 404 ? undefined : result.body;
}

async function waitForLandingZone(project: string): Promise<{ status: string; resources: { imageRepository?: { uri: string } } }> {
  const deadline = Date.now() + 90_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await platform.http('GET', `/v1/landing-zones/${project}`);
    last = res.body;
    if (res.status === 200 && ['succeeded', 'failed', 'rolled_back'].includes(res.body.status)) return res.body;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`landing zone ${project} did not finish; last: ${JSON.stringify(last)}`);
}

/** moto stores any manifest; its digest is moto's own, read from the answer. */
async function pushImage(repositoryName: string, tag: string): Promise<string> {
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { digest: `sha256:${tag.padEnd(64, '0')}` }, layers: [] });
  const pushed = await ecr.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: tag }));
  const digest = pushed.image?.imageId?.imageDigest;
  assert.ok(digest, 'moto answered no digest');
  return digest;
}

async function deployAndApprove(image: string, replicas = 2): Promise<{ id: string; status: string; [field: string]: unknown }> {
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'shop', service: 'web', environment: 'staging', image, replicas, route: { host: 'shop.example.com', path: '/' } }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const id = started.body.deploymentId as string;
  const waiting = await platform.waitForStatus(id, ['awaiting_approval', 'failed'], 90_000);
  assert.equal(waiting.status, 'awaiting_approval', JSON.stringify(waiting));
  const change = waiting.change?.number;
  assert.ok(change);
  assert.equal((await platform.simulator('approve', change)).status, 200);
  const done = await platform.waitForStatus(id, ['succeeded', 'failed', 'rolled_back'], 120_000);
  return { ...done, id };
}

describe('the platform on EKS (token webhook), ECR (moto) and the ServiceNow simulator', () => {
  let repositoryUri: string;
  let firstDigest: string;

  it('when a landing zone is requested, then its namespaces exist in the cluster and its ECR repository scans on push with immutable tags', async () => {
    const created = await platform.http('POST', '/v1/landing-zones', {
      project: 'shop',
      tenant: 'retail',
      class: 'node-web',
      owners: { emails: ['shop-owner@example.com'], group: 'team-shop' },
      environments: ['staging', 'prod'],
      quota: { pods: 2 },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const done = await waitForLandingZone('shop');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));

    const namespace = await get('/api/v1/namespaces/shop-staging');
    assert.equal(namespace.metadata.labels['istio-injection'], 'enabled');
    assert.equal((await get('/api/v1/namespaces/shop-staging/resourcequotas/default-quota')).spec.hard.pods, '2');
    assert.equal((await get('/apis/security.istio.io/v1beta1/namespaces/shop-staging/peerauthentications/default')).spec.mtls.mode, 'STRICT');

    const repository = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['retail/shop'] }))).repositories?.[0];
    assert.equal(repository?.imageTagMutability, 'IMMUTABLE');
    assert.equal(repository?.imageScanningConfiguration?.scanOnPush, true);
    assert.equal(done.resources.imageRepository?.uri, repository?.repositoryUri);
    repositoryUri = repository?.repositoryUri ?? '';

    // The worker got there with an EKS token, verified by the webhook against STS.
    assert.ok(webhook.reviews.some((r) => r.authenticated && r.username === 'deploy-platform-worker'), JSON.stringify(webhook.reviews.slice(-3)));
  });

  it('when a staging deploy is approved in ServiceNow, then ECR findings are judged, the Deployment is Available and the mesh is wired', async () => {
    firstDigest = await pushImage('retail/shop', 'v1');
    const done = await deployAndApprove(`${repositoryUri}@${firstDigest}`);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const scan = done.scan as { scanner: string; scanned: boolean; counts: Record<string, number> };
    assert.equal(scan.scanner, 'ecr');
    assert.equal(scan.scanned, true);
    assert.ok((scan.counts.HIGH ?? 0) >= 1, `moto reports a HIGH finding: ${JSON.stringify(scan.counts)}`);

    const deployment = await get('/apis/apps/v1/namespaces/shop-staging/deployments/web');
    assert.equal(deployment.status.availableReplicas, 2);
    assert.equal(deployment.spec.template.spec.containers[0].image, `${repositoryUri}@${firstDigest}`);
    assert.ok(await get('/apis/networking.istio.io/v1beta1/namespaces/shop-staging/virtualservices/web'));
    assert.ok(await get('/apis/networking.istio.io/v1beta1/namespaces/shop-staging/destinationrules/web'));
  });

  it('when a rollout cannot become available, then the run fails verification and the previous Deployment is restored', async () => {
    // The landing zone's quota (2 pods) cannot hold 3 replicas.
    const secondDigest = await pushImage('retail/shop', 'v2');
    const done = await deployAndApprove(`${repositoryUri}@${secondDigest}`, 3);
    assert.notEqual(done.status, 'succeeded');
    assert.match(JSON.stringify(done.error), /rollout not complete after 15 s.*exceeded quota/);
    const deployment = await get('/apis/apps/v1/namespaces/shop-staging/deployments/web');
    assert.equal(deployment.spec.template.spec.containers[0].image, `${repositoryUri}@${firstDigest}`);
    assert.equal(deployment.spec.replicas, 2);
    for (let i = 0; i < 50 && (await get('/apis/apps/v1/namespaces/shop-staging/deployments/web')).status.availableReplicas !== 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await get('/apis/apps/v1/namespaces/shop-staging/deployments/web')).status.availableReplicas, 2);
  });

  it('when prod blocks HIGH findings, then the ECR scan stops the deploy before any change is opened', async () => {
    const digest = await pushImage('retail/shop', 'v3');
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'shop', service: 'web', environment: 'prod', image: `${repositoryUri}@${digest}` }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const done = await platform.waitForStatus(started.body.deploymentId, ['failed', 'succeeded', 'rolled_back'], 60_000);
    assert.equal(done.status, 'failed');
    assert.equal(done.scan?.scanner, 'ecr');
    assert.equal(done.scan?.passed, false);
    assert.match(done.scan?.reason ?? '', /HIGH/);
    assert.equal(done.change, undefined, 'no change request was opened');
    assert.equal(await get('/apis/apps/v1/namespaces/shop-prod/deployments/web'), undefined);
  });
});
