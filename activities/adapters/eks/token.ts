/**
 * EKS bearer tokens, made the way `aws eks get-token` and aws-iam-authenticator make them: a
 * presigned STS GetCallerIdentity URL with the cluster name in the signed `x-k8s-aws-id` header,
 * base64url-encoded behind `k8s-aws-v1.`. The cluster's authenticator replays the URL against STS
 * with its own cluster name in that header; a token made for another cluster fails the signature
 * there. Signing is the AWS SDK's own SigV4 presigner, never a hand-rolled one.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, HttpRequest as SignedRequest } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/**
 * STS ignores X-Amz-Expires for this call and honours a presigned GetCallerIdentity for 15 minutes
 * after X-Amz-Date; 60 is what every EKS client sends (old authenticators refuse more than 60).
 */
const PRESIGN_EXPIRES_SECONDS = 60;
/** How long EKS accepts a token after it was signed. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Renew well before the 15 minutes are up: a request may sit in a queue or retry for a while. */
export const EKS_TOKEN_REFRESH_AFTER_MS = 10 * 60_000;
/** Session credentials end a presigned URL's validity too; renew this long before they expire. */
const CREDENTIALS_EXPIRY_MARGIN_MS = 60_000;

export interface EksTokenProviderOptions {
  clusterName: string;
  region: string;
  /** Defaults to the SDK's default chain (environment, profile, SSO, web identity, IMDS, ...). */
  credentials?: AwsCredentialIdentityProvider;
  /**
   * Another STS endpoint (origin only, e.g. `http://127.0.0.1:5000` for moto or a VPC endpoint's
   * DNS name). The path stays `/` and the query keeps its shape, as authenticators expect.
   */
  stsEndpoint?: string;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
}

export interface EksTokenProvider {
  /** A valid token, from the cache while it is younger than the refresh age. */
  token(): Promise<string>;
}

/** The regional STS origin EKS authenticators accept for `region`. */
export function defaultStsOrigin(region: string): string {
  // China regions live in their own partition with its own DNS suffix.
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}`;
}

function stsOrigin(region: string, stsEndpoint: string | undefined): URL {
  if (stsEndpoint === undefined) return new URL(defaultStsOrigin(region));
  let url: URL;
  try {
    url = new URL(stsEndpoint);
  } catch {
    throw new Error(`stsEndpoint ${JSON.stringify(stsEndpoint)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`stsEndpoint must be an http(s) URL, got ${url.protocol}`);
  }
  return url;
}

/** RFC 3986 encoding, as SigV4's canonical query uses; the receiver decodes it back either way. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function toUrl(request: SignedRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v] as const) : value === null ? [] : [[key, value] as const]))
    .map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`)
    .join('&');
  const port = request.port === undefined ? '' : `:${request.port}`;
  return `${request.protocol}//${request.hostname}${port}${request.path}?${query}`;
}

export function createEksTokenProvider(options: EksTokenProviderOptions): EksTokenProvider {
  const { clusterName, region } = options;
  if (!clusterName) throw new Error('clusterName is required for an EKS token');
  if (!region) throw new Error('region is required for an EKS token');
  const origin = stsOrigin(region, options.stsEndpoint);
  const credentials = options.credentials ?? defaultProvider();
  const now = options.now ?? Date.now;

  let cached: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function mint(): Promise<string> {
    const signedAt = now();
    // Resolve once and sign with that identity, so the expiry we cache against is the one signed with.
    const identity = await credentials();
    const signer = new SignatureV4({ credentials: identity, region, service: 'sts', sha256: Sha256 });
    const request = new HttpRequest({
      method: 'GET',
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port === '' ? undefined : Number(origin.port),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      // host must be signed explicitly: the presigner signs the headers it is given.
      headers: { host: origin.host, [CLUSTER_ID_HEADER]: clusterName },
    });
    const presigned = await signer.presign(request, { signingDate: new Date(signedAt), expiresIn: PRESIGN_EXPIRES_SECONDS });
    const token = EKS_TOKEN_PREFIX + Buffer.from(toUrl(presigned), 'utf8').toString('base64url');

    let refreshAt = signedAt + EKS_TOKEN_REFRESH_AFTER_MS;
    if (identity.expiration) refreshAt = Math.min(refreshAt, identity.expiration.getTime() - CREDENTIALS_EXPIRY_MARGIN_MS);
    cached = { token, refreshAt };
    return token;
  }

  return {
    token(): Promise<string> {
      if (cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
      // Single flight: concurrent callers share one signing (and one credentials resolution).
      inflight ??= mint().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
