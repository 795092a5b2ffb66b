/**
 * EKS access against moto: DescribeCluster through the adapter, the EKS bearer token, and the
 * TokenReview webhook the test control plane uses to authenticate those tokens (it replays them
 * against moto's STS).
 *
 *   npx tsx --test test/aws/eks.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AccessDeniedException,
  CreateClusterCommand,
  EKSClient,
  ResourceNotFoundException,
  ServerException,
  ThrottlingException,
} from '@aws-sdk/client-eks';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import {
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_REFRESH_AFTER_MS,
  createEksTokenProvider,
  describeEksCluster,
  resolveEksEndpoint,
  translateDescribeClusterError,
} from '../../activities/adapters/eks';
import { ErrorType } from '../../shared/errors';
import {
  parseCallerIdentity,
  startEksTokenWebhook,
  writeWebhookConfig,
  type EksTokenWebhook,
  type EksTokenWebhookOptions,
  type TokenReviewStatus,
} from '../support/eks-token-webhook';
import { MOTO_ACCOUNT_ID, MOTO_CREDENTIALS, MOTO_DEFAULT_CALLER_ARN, startEksMoto, type EksMoto } from './eks-moto';

const REGION = 'eu-west-1';
const CLUSTER = 'platform-test';
/** A syntactically valid base64 PEM for overrides (the content is never parsed as X.509 here). */
const FAKE_CA_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n').toString('base64');

const staticCredentials = () => Promise.resolve({ ...MOTO_CREDENTIALS });

function decodeToken(token: string): URL {
  assert.ok(token.startsWith(EKS_TOKEN_PREFIX), 'token has the k8s-aws-v1. prefix');
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

function encodeToken(url: URL | string): string {
  return EKS_TOKEN_PREFIX + Buffer.from(String(url), 'utf8').toString('base64url');
}

function expectFailure(error: unknown, type: string, ...mentions: string[]): true {
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  assert.equal(error.type, type);
  assert.equal(error.nonRetryable, true);
  for (const text of mentions) assert.ok(error.message.includes(text), `"${error.message}" mentions ${text}`);
  return true;
}

let moto: EksMoto;

before(async () => {
  moto = await startEksMoto();
});

after(async () => {
  await moto?.stop();
});

describe('describeEksCluster against moto', () => {
  let created: { endpoint: string; caData: string };

  before(async () => {
    const eks = new EKSClient({ region: REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    try {
      const out = await eks.send(
        new CreateClusterCommand({
          name: CLUSTER,
          roleArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/eks-cluster`,
          resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
        }),
      );
      const endpoint = out.cluster?.endpoint;
      const caData = out.cluster?.certificateAuthority?.data;
      assert.ok(endpoint && caData, 'moto returned an endpoint and CA for the new cluster');
      created = { endpoint, caData };
    } finally {
      eks.destroy();
    }
  });

  it('when the cluster exists, then it returns the endpoint and CA data EKS holds for it', async () => {
    const found = await describeEksCluster({ clusterName: CLUSTER, region: REGION, endpoint: moto.endpoint, credentials: staticCredentials });
    assert.deepEqual(found, { server: created.endpoint, caData: created.caData });
    assert.match(found.server, /^https:\/\//);
  });

  it('when the cluster does not exist, then it fails non-retryably naming the cluster and region', async () => {
    await assert.rejects(
      describeEksCluster({ clusterName: 'no-such-cluster', region: REGION, endpoint: moto.endpoint, credentials: staticCredentials }),
      (error) => expectFailure(error, ErrorType.ConfigurationInvalid, '"no-such-cluster"', REGION, 'does not exist'),
    );
  });

  it('when the override gives server and caData, then they win and AWS is not asked', async () => {
    // The cluster does not exist, so any DescribeCluster call would fail.
    const resolved = await resolveEksEndpoint({
      clusterName: 'only-in-config',
      region: REGION,
      endpoint: moto.endpoint,
      credentials: staticCredentials,
      override: { server: 'https://127.0.0.1:6443', caData: FAKE_CA_DATA },
    });
    assert.deepEqual(resolved, { server: 'https://127.0.0.1:6443', caData: FAKE_CA_DATA });
  });

  it('when the override gives only the server, then the CA still comes from DescribeCluster', async () => {
    const resolved = await resolveEksEndpoint({
      clusterName: CLUSTER,
      region: REGION,
      endpoint: moto.endpoint,
      credentials: staticCredentials,
      override: { server: 'https://private.example.internal' },
    });
    assert.deepEqual(resolved, { server: 'https://private.example.internal', caData: created.caData });
  });

  it('when there is no override, then resolveEksEndpoint is DescribeCluster', async () => {
    const resolved = await resolveEksEndpoint({ clusterName: CLUSTER, region: REGION, endpoint: moto.endpoint, credentials: staticCredentials });
    assert.deepEqual(resolved, { server: created.endpoint, caData: created.caData });
  });

  it('when the override server is plain http or the caData is not a PEM, then it fails as invalid configuration', async () => {
    await assert.rejects(
      resolveEksEndpoint({ clusterName: CLUSTER, region: REGION, override: { server: 'http://127.0.0.1:6443', caData: FAKE_CA_DATA } }),
      (error) => expectFailure(error, ErrorType.ConfigurationInvalid, 'https://'),
    );
    await assert.rejects(
      resolveEksEndpoint({ clusterName: CLUSTER, region: REGION, override: { server: 'https://127.0.0.1:6443', caData: 'bm90IGEgcGVt' } }),
      (error) => expectFailure(error, ErrorType.ConfigurationInvalid, 'PEM'),
    );
  });
});

describe('DescribeCluster error translation', () => {
  const ref = { clusterName: 'prod-eu', region: 'eu-central-1' };
  const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  it('when EKS says ResourceNotFound, then the failure is non-retryable ConfigurationInvalid', () => {
    const error = translateDescribeClusterError(new ResourceNotFoundException({ message: 'No cluster found for name: prod-eu.', ...metadata(404) }), ref);
    expectFailure(error, ErrorType.ConfigurationInvalid, '"prod-eu"', 'eu-central-1');
  });

  it('when access is denied, then the failure is non-retryable and names eks:DescribeCluster', () => {
    const error = translateDescribeClusterError(new AccessDeniedException({ message: 'User is not authorized', ...metadata(403) }), ref);
    expectFailure(error, ErrorType.ConfigurationInvalid, 'eks:DescribeCluster', '"prod-eu"');
  });

  it('when EKS throttles or fails with 5xx, then a plain Error is thrown so Temporal retries', () => {
    for (const cause of [
      new ThrottlingException({ message: 'Rate exceeded', ...metadata(429) }),
      new ServerException({ message: 'internal', ...metadata(500) }),
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    ]) {
      const error = translateDescribeClusterError(cause, ref);
      assert.ok(!(error instanceof ApplicationFailure), `${cause.name} stays retryable`);
      assert.ok(error.message.includes('"prod-eu"'));
    }
  });
});

describe('EKS token', () => {
  const signedAt = Date.UTC(2026, 0, 15, 9, 30, 0);

  it('when made for a region, then it is k8s-aws-v1. + unpadded base64url of a presigned GetCallerIdentity URL', async () => {
    const provider = createEksTokenProvider({ clusterName: CLUSTER, region: REGION, credentials: staticCredentials, now: () => signedAt });
    const token = await provider.token();
    assert.ok(token.startsWith('k8s-aws-v1.'));
    assert.match(token.slice('k8s-aws-v1.'.length), /^[A-Za-z0-9_-]+$/, 'base64url alphabet, no padding');
    const url = decodeToken(token);
    assert.equal(url.protocol, 'https:');
    assert.equal(url.host, `sts.${REGION}.amazonaws.com`);
    assert.equal(url.pathname, '/');
    const q = url.searchParams;
    assert.equal(q.get('Action'), 'GetCallerIdentity');
    assert.equal(q.get('Version'), '2011-06-15');
    assert.equal(q.get('X-Amz-Expires'), '60');
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(q.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id');
    assert.equal(q.get('X-Amz-Date'), '20260115T093000Z');
    assert.equal(q.get('X-Amz-Credential'), `${MOTO_CREDENTIALS.accessKeyId}/20260115/${REGION}/sts/aws4_request`);
    assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    assert.equal(q.get('x-k8s-aws-id'), null, 'the cluster id is a signed header, not a query parameter');
  });

  it('when an STS endpoint is given, then only the origin changes, not the path or query shape', async () => {
    const provider = createEksTokenProvider({ clusterName: CLUSTER, region: REGION, credentials: staticCredentials, stsEndpoint: 'http://127.0.0.1:4566', now: () => signedAt });
    const url = decodeToken(await provider.token());
    assert.equal(url.origin, 'http://127.0.0.1:4566');
    assert.equal(url.pathname, '/');
    assert.deepEqual(
      [...url.searchParams.keys()].sort(),
      ['Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature', 'X-Amz-SignedHeaders'],
    );
  });

  it('when asked again before the refresh age, then the cached token is returned; after it, a new one is signed', async () => {
    let clock = signedAt;
    let resolutions = 0;
    const provider = createEksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials: () => {
        resolutions += 1;
        return staticCredentials();
      },
      now: () => clock,
    });
    const first = await provider.token();
    clock += EKS_TOKEN_REFRESH_AFTER_MS - 1;
    assert.equal(await provider.token(), first, 'still cached just before the refresh age');
    assert.equal(resolutions, 1);
    clock += 1;
    const second = await provider.token();
    assert.notEqual(second, first);
    assert.equal(resolutions, 2);
    assert.equal(decodeToken(second).searchParams.get('X-Amz-Date'), '20260115T094000Z', 'signed at the new time');
  });

  it('when called concurrently, then one token is signed for all callers', async () => {
    let resolutions = 0;
    const provider = createEksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials: async () => {
        resolutions += 1;
        await new Promise((r) => setTimeout(r, 50));
        return { ...MOTO_CREDENTIALS };
      },
    });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => provider.token()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(resolutions, 1);
  });

  it('when the credentials expire before the refresh age, then the token is renewed before they do', async () => {
    let clock = signedAt;
    const provider = createEksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials: () => Promise.resolve({ ...MOTO_CREDENTIALS, sessionToken: 'session', expiration: new Date(clock + 5 * 60_000) }),
      now: () => clock,
    });
    const first = await provider.token();
    assert.equal(decodeToken(first).searchParams.get('X-Amz-Security-Token'), 'session');
    clock += 3 * 60_000;
    assert.equal(await provider.token(), first);
    clock += 60_000 + 1; // within a minute of the credentials' expiry
    assert.notEqual(await provider.token(), first);
  });

  it('when resolving credentials fails, then the call rejects and the next call tries again', async () => {
    let attempts = 0;
    const provider = createEksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials: () => {
        attempts += 1;
        return attempts === 1 ? Promise.reject(new Error('no credentials')) : staticCredentials();
      },
    });
    await assert.rejects(provider.token(), /no credentials/);
    assert.ok((await provider.token()).startsWith(EKS_TOKEN_PREFIX));
  });
});

describe('EKS token webhook against moto STS', () => {
  const CLUSTER_ID = 'platform-test';
  const DEPLOYER = { username: 'platform-deployer', groups: ['platform:deployers'] };
  let webhook: EksTokenWebhook;
  let options: EksTokenWebhookOptions;
  let tmp: string;

  const tokenFor = (overrides: Partial<Parameters<typeof createEksTokenProvider>[0]> = {}): Promise<string> =>
    createEksTokenProvider({ clusterName: CLUSTER_ID, region: REGION, credentials: staticCredentials, stsEndpoint: moto.stsEndpoint, ...overrides }).token();

  async function postReview(token: string, apiVersion = 'authentication.k8s.io/v1'): Promise<{ apiVersion: string; kind: string; status: TokenReviewStatus }> {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion, kind: 'TokenReview', spec: { token } }),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as { apiVersion: string; kind: string; status: TokenReviewStatus };
  }

  async function assertRefused(token: string, reason: RegExp): Promise<void> {
    const { status } = await postReview(token);
    assert.equal(status.authenticated, false, 'not authenticated');
    assert.equal(status.user, undefined);
    assert.match(status.error ?? '', reason);
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'eks-webhook-'));
    options = {
      stsHost: moto.stsHost,
      stsProtocol: 'http:',
      clusterId: CLUSTER_ID,
      identities: { [MOTO_DEFAULT_CALLER_ARN]: DEPLOYER },
      acceptNonCanonicalArns: [MOTO_DEFAULT_CALLER_ARN],
      // moto does not check presigned signatures; the webhook does, as STS would.
      signingKeys: { [MOTO_CREDENTIALS.accessKeyId]: { secretAccessKey: MOTO_CREDENTIALS.secretAccessKey } },
    };
    webhook = await startEksTokenWebhook(options);
  });

  after(async () => {
    await webhook?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("when moto's STS is asked by presigned URL, then it answers (in XML) with its default caller arn:aws:sts::123456789012:user/moto", async () => {
    const url = decodeToken(await tokenFor());
    const response = await fetch(url, { headers: { 'x-k8s-aws-id': CLUSTER_ID, accept: 'application/json' } });
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.ok(body.trim().startsWith('<'), 'moto answers XML even when JSON is asked for');
    assert.deepEqual(parseCallerIdentity(body), { arn: MOTO_DEFAULT_CALLER_ARN, account: MOTO_ACCOUNT_ID, userId: 'AKIAIOSFODNN7EXAMPLE' });
  });

  it('when a real token is reviewed, then the webhook replays it against moto STS and maps the caller ARN', async () => {
    const review = await postReview(await tokenFor());
    assert.equal(review.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(review.kind, 'TokenReview');
    assert.equal(review.status.authenticated, true, review.status.error);
    assert.equal(review.status.user?.username, DEPLOYER.username);
    assert.deepEqual(review.status.user?.groups, DEPLOYER.groups);
    // The UserId comes only from moto's GetCallerIdentity answer.
    assert.equal(review.status.user?.uid, `aws-iam-authenticator:${MOTO_ACCOUNT_ID}:AKIAIOSFODNN7EXAMPLE`);
    assert.deepEqual(review.status.user?.extra?.arn, [MOTO_DEFAULT_CALLER_ARN]);
  });

  it('when kube-apiserver sends a v1beta1 TokenReview, then the answer is v1beta1 too', async () => {
    const review = await postReview(await tokenFor(), 'authentication.k8s.io/v1beta1');
    assert.equal(review.apiVersion, 'authentication.k8s.io/v1beta1');
    assert.equal(review.status.authenticated, true, review.status.error);
  });

  it('when the token was made for another cluster, then it is refused (signature mismatch)', async () => {
    await assertRefused(await tokenFor({ clusterName: 'another-cluster' }), /SignatureDoesNotMatch/);
  });

  it('when signatures are not checked by the webhook, then moto accepts a token for another cluster (moto verifies no SigV4)', async () => {
    const { signingKeys: _ignored, ...withoutKeys } = options;
    const lax = await startEksTokenWebhook(withoutKeys);
    try {
      const status = await lax.review(await tokenFor({ clusterName: 'another-cluster' }));
      assert.equal(status.authenticated, true, 'moto answered GetCallerIdentity for a URL signed for another cluster');
    } finally {
      await lax.stop();
    }
  });

  it('when X-Amz-Date was tampered with, then it is refused', async () => {
    const url = decodeToken(await tokenFor());
    const later = new Date(Date.now() + 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    url.searchParams.set('X-Amz-Date', later);
    await assertRefused(encodeToken(url), /SignatureDoesNotMatch/);
  });

  it('when the token was signed more than 15 minutes ago, then it is refused as expired', async () => {
    const old = await tokenFor({ now: () => Date.now() - 16 * 60_000 });
    await assertRefused(old, /X-Amz-Date parameter is expired/);
  });

  it('when the token names another STS host, then it is refused before anything is called', async () => {
    const port = new URL(moto.stsEndpoint).port;
    await assertRefused(await tokenFor({ stsEndpoint: `http://localhost:${port}` }), /unexpected hostname "localhost:\d+"/);
    await assertRefused(await tokenFor({ stsEndpoint: undefined }), /unexpected scheme "https"/);
  });

  it('when the token is garbage or has no prefix, then it is refused with the reason', async () => {
    await assertRefused('k8s-aws-v1.!!not*base64', /illegal base64url/);
    await assertRefused(encodeToken('not a url at all'), /does not hold a URL/);
    const real = await tokenFor();
    await assertRefused(real.slice(EKS_TOKEN_PREFIX.length), /missing expected "k8s-aws-v1\." prefix/);
    await assertRefused(`${real}=`, /illegal base64url/);
  });

  it('when x-k8s-aws-id is not signed or an unexpected parameter is added, then it is refused', async () => {
    const unsigned = decodeToken(await tokenFor());
    unsigned.searchParams.set('X-Amz-SignedHeaders', 'host');
    await assertRefused(encodeToken(unsigned), /did not sign the x-k8s-aws-id header/);
    const extra = decodeToken(await tokenFor());
    extra.searchParams.set('Foo', 'bar');
    await assertRefused(encodeToken(extra), /non-whitelisted query parameter "Foo"/);
    const otherAction = decodeToken(await tokenFor());
    otherAction.searchParams.set('Action', 'AssumeRole');
    await assertRefused(encodeToken(otherAction), /unexpected action/);
  });

  it("when the caller's ARN is not mapped, then it is refused", async () => {
    const unmapped = await startEksTokenWebhook({ ...options, identities: { 'arn:aws:iam::123456789012:role/other-*': DEPLOYER } });
    try {
      const status = await unmapped.review(await tokenFor());
      assert.equal(status.authenticated, false);
      assert.match(status.error ?? '', /ARN is not mapped/);
    } finally {
      await unmapped.stop();
    }
  });

  it("when moto's ARN is not explicitly accepted, then it is refused as aws-iam-authenticator would", async () => {
    const { acceptNonCanonicalArns: _ignored, ...strict } = options;
    const authenticatorLike = await startEksTokenWebhook(strict);
    try {
      const status = await authenticatorLike.review(await tokenFor());
      assert.equal(status.authenticated, false);
      assert.match(status.error ?? '', /unrecognized resource user\/moto for service sts/);
    } finally {
      await authenticatorLike.stop();
    }
  });

  it('when decisions are recorded, then they hold the outcome but never the token or its signature', async () => {
    const token = await tokenFor();
    await postReview(token);
    const recorded = JSON.stringify(webhook.reviews);
    assert.ok(webhook.reviews.some((r) => r.authenticated && r.username === DEPLOYER.username));
    assert.ok(webhook.reviews.some((r) => !r.authenticated && r.error));
    assert.ok(!recorded.includes(token.slice(EKS_TOKEN_PREFIX.length, EKS_TOKEN_PREFIX.length + 40)));
    assert.ok(!recorded.includes(decodeToken(token).searchParams.get('X-Amz-Signature') ?? 'unreachable'));
  });

  it('when the webhook config is written, then it is a kubeconfig naming the webhook URL', () => {
    const path = join(tmp, 'webhook.yaml');
    writeWebhookConfig(path, webhook.url);
    const config = parse(readFileSync(path, 'utf8')) as { kind: string; clusters: { cluster: { server: string } }[]; 'current-context': string };
    assert.equal(config.kind, 'Config');
    assert.equal(config.clusters[0]?.cluster.server, webhook.url);
    assert.equal(config['current-context'], 'webhook');
  });
});
