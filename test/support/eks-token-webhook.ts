/**
 * A Kubernetes TokenReview webhook that authenticates EKS bearer tokens the way EKS does, for a
 * test control plane (kube-apiserver `--authentication-token-webhook-config-file`, see
 * `writeWebhookConfig`). The checks follow aws-iam-authenticator's `tokenVerifier.Verify`
 * (pkg/token/token.go): prefix, base64url, https-style URL on the expected STS host, path `/`,
 * whitelisted single-valued query parameters, Action=GetCallerIdentity, `x-k8s-aws-id` signed,
 * X-Amz-Expires in 0..900, X-Amz-Date no older than 15 minutes; then it replays the URL against
 * STS with its own cluster id in `x-k8s-aws-id` and maps the caller's canonical ARN to a user.
 *
 * Real STS refuses a replay whose signature does not match, and that is what binds a token to one
 * cluster: the cluster id is only in the signed header, never in the URL. moto does not check
 * presigned signatures at all (it answers any GetCallerIdentity with its default caller), so
 * `signingKeys` lets this webhook do that check itself for known test keys, with the AWS SDK's
 * SigV4 presigner. Without `signingKeys` a token for another cluster passes against moto.
 *
 * Decisions are recorded without the token or the presigned URL: both are credentials.
 */
import { timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { stringify } from 'yaml';

const V1_PREFIX = 'k8s-aws-v1.';
const MAX_TOKEN_LENGTH = 4 * 1024;
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
const PRESIGNED_URL_LIFETIME_MS = 15 * 60_000;
const MAX_REVIEW_BODY_BYTES = 64 * 1024;

/** Query parameters a presigned GetCallerIdentity may carry (lower case), as the authenticator allows. */
const PARAMETER_WHITELIST = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

export interface IdentityMapping {
  /** May use {{AccountID}}, {{SessionName}} and {{AccessKeyID}}, as aws-auth mappings do. */
  username: string;
  groups: string[];
}

export interface SigningKey {
  secretAccessKey: string;
  sessionToken?: string;
}

export interface EksTokenWebhookOptions {
  /** host[:port] every token's URL must name: the STS endpoint the tokens were made for. */
  stsHost: string;
  /** The authenticator insists on https; moto serves http. */
  stsProtocol?: 'https:' | 'http:';
  /** The cluster id the webhook puts in `x-k8s-aws-id` when replaying the URL (the EKS cluster name). */
  clusterId: string;
  /**
   * Canonical caller ARN → Kubernetes user. Keys are exact ARNs or patterns where `*` matches any
   * run of characters (e.g. `arn:aws:iam::123456789012:role/deploy-*`). First match wins; exact
   * keys are tried before patterns.
   */
  identities: Record<string, IdentityMapping>;
  /**
   * Exact ARNs accepted although the authenticator's canonicalizer refuses them. moto answers every
   * presigned GetCallerIdentity with `arn:aws:sts::123456789012:user/moto`, a form real STS never
   * returns and aws-iam-authenticator rejects ("unrecognized resource user/moto for service sts").
   */
  acceptNonCanonicalArns?: readonly string[];
  /** Access key id → secret: verify the SigV4 signature here, for an STS emulator that does not. */
  signingKeys?: Record<string, SigningKey>;
  stsTimeoutMs?: number;
  /** Milliseconds since the epoch, for the expiry check. */
  now?: () => number;
}

export interface VerifiedIdentity {
  arn: string;
  canonicalArn: string;
  accountId: string;
  userId: string;
  sessionName?: string;
  accessKeyId: string;
}

export interface TokenReviewDecision {
  at: string;
  authenticated: boolean;
  username?: string;
  uid?: string;
  groups?: string[];
  arn?: string;
  error?: string;
}

export interface TokenReviewStatus {
  authenticated: boolean;
  user?: { username: string; uid: string; groups: string[]; extra?: Record<string, string[]> };
  error?: string;
}

export interface EksTokenWebhook {
  /** Where kube-apiserver posts TokenReviews (http://127.0.0.1:PORT/authenticate). */
  url: string;
  /** Every decision, oldest first. */
  reviews: TokenReviewDecision[];
  /** The same check without HTTP. */
  review(token: string): Promise<TokenReviewStatus>;
  stop(): Promise<void>;
}

class TokenRefused extends Error {}

function formatError(message: string): TokenRefused {
  return new TokenRefused(`input token was not properly formatted: ${message}`);
}

function stsError(message: string): TokenRefused {
  return new TokenRefused(`sts getCallerIdentity failed: ${message}`);
}

/** Strict base64url without padding, like Go's base64.RawURLEncoding (Node's decoder skips junk). */
function decodeRawBase64Url(text: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw formatError('illegal base64url data');
  return Buffer.from(text, 'base64url').toString('utf8');
}

/** X-Amz-Date, YYYYMMDDTHHMMSSZ, strictly. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw formatError(`error parsing X-Amz-Date parameter ${JSON.stringify(value)} into format 20060102T150405Z`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw formatError(`X-Amz-Date parameter ${value} is not a valid time`);
  }
  return ms;
}

/**
 * aws-iam-authenticator's arn.Canonicalize: IAM users, roles and roots as they are, STS federated
 * users as they are, STS assumed roles as their IAM role; anything else refused.
 */
export function canonicalizeArn(arn: string): string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw stsError(`arn '${arn}' is invalid`);
  const [, partition = '', service = '', , account = ''] = parts;
  const resourceText = parts.slice(5).join(':');
  if (!['aws', 'aws-cn', 'aws-us-gov'].includes(partition)) throw stsError(`arn '${arn}' does not have a recognized partition`);
  const resource = resourceText.split('/');
  const kind = resource[0];
  if (service === 'sts') {
    if (kind === 'federated-user') return arn;
    if (kind === 'assumed-role') {
      if (resource.length < 3) throw stsError(`assumed-role arn '${arn}' does not have a role`);
      // Role names may contain paths; the last segment is the session name.
      return `arn:${partition}:iam::${account}:role/${resource.slice(1, -1).join('/')}`;
    }
    throw stsError(`unrecognized resource ${resourceText} for service sts`);
  }
  if (service === 'iam') {
    if (kind === 'role' || kind === 'user' || kind === 'root') return arn;
    throw stsError(`unrecognized resource ${resourceText} for service iam`);
  }
  throw stsError(`service ${service} in arn ${arn} is not a valid service for identities`);
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!m || m[1] === undefined) return undefined;
  return m[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** GetCallerIdentity's result, from JSON (what real STS sends for Accept: application/json) or XML (what moto sends). */
export function parseCallerIdentity(body: string): { arn: string; account: string; userId: string } {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw stsError(`response is not JSON: ${(error as Error).message}`);
    }
    const result = (parsed as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: Record<string, unknown> } })
      ?.GetCallerIdentityResponse?.GetCallerIdentityResult;
    const arn = result?.Arn;
    const account = result?.Account;
    const userId = result?.UserId;
    if (typeof arn !== 'string' || typeof account !== 'string' || typeof userId !== 'string') {
      throw stsError('response has no GetCallerIdentityResult');
    }
    return { arn, account, userId };
  }
  const result = /<GetCallerIdentityResult>([\s\S]*?)<\/GetCallerIdentityResult>/.exec(trimmed)?.[1];
  const arn = result === undefined ? undefined : xmlText(result, 'Arn');
  const account = result === undefined ? undefined : xmlText(result, 'Account');
  const userId = result === undefined ? undefined : xmlText(result, 'UserId');
  if (arn === undefined || account === undefined || userId === undefined) throw stsError('response has no GetCallerIdentityResult');
  return { arn, account, userId };
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

function mapIdentity(identity: VerifiedIdentity, identities: Record<string, IdentityMapping>): IdentityMapping {
  const exact = identities[identity.canonicalArn];
  const found =
    exact ??
    Object.entries(identities).find(([key]) => key.includes('*') && globToRegExp(key).test(identity.canonicalArn))?.[1];
  if (!found) throw new TokenRefused(`ARN is not mapped: ${identity.canonicalArn}`);
  const fill = (text: string): string =>
    text
      .replaceAll('{{AccountID}}', identity.accountId)
      .replaceAll('{{SessionName}}', identity.sessionName ?? '')
      .replaceAll('{{AccessKeyID}}', identity.accessKeyId);
  return { username: fill(found.username), groups: found.groups.map(fill) };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * What STS does with the signature, for an emulator that skips it: rebuild the request the
 * webhook will send (its own cluster id in `x-k8s-aws-id`), presign it with the caller's key at
 * the token's date, and compare signatures.
 */
async function checkSignature(url: URL, params: URLSearchParams, clusterId: string, keys: Record<string, SigningKey>): Promise<void> {
  const lower = new Map([...params].map(([k, v]) => [k.toLowerCase(), v]));
  const [accessKeyId = '', , region = '', service = ''] = (lower.get('x-amz-credential') ?? '').split('/');
  const key = keys[accessKeyId];
  if (!key) throw stsError('the access key in the pre-signed URL is not known (InvalidClientTokenId)');
  // Only these two headers can be rebuilt here; real STS would also refuse a token that needs
  // headers the authenticator does not send.
  if (lower.get('x-amz-signedheaders') !== `host;${CLUSTER_ID_HEADER}`) {
    throw stsError('the pre-signed URL signs headers other than host and x-k8s-aws-id (SignatureDoesNotMatch)');
  }
  const query: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!name.toLowerCase().startsWith('x-amz-')) query[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken },
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: '/',
    query,
    headers: { host: url.host, [CLUSTER_ID_HEADER]: clusterId },
  });
  const expected = await signer.presign(request, {
    signingDate: new Date(parseAmzDate(lower.get('x-amz-date') ?? '')),
    expiresIn: Number(lower.get('x-amz-expires')),
    signingService: service || 'sts',
  });
  const expectedSignature = expected.query?.['X-Amz-Signature'];
  const expectedToken = expected.query?.['X-Amz-Security-Token'];
  if (
    typeof expectedSignature !== 'string' ||
    !sameText(expectedSignature, lower.get('x-amz-signature') ?? '') ||
    (expectedToken ?? '') !== (lower.get('x-amz-security-token') ?? '')
  ) {
    throw stsError('error from AWS (expected 200, got 403): SignatureDoesNotMatch');
  }
}

/** Verifies a token as aws-iam-authenticator does; throws TokenRefused with the reason. */
async function verifyToken(token: string, options: EksTokenWebhookOptions): Promise<VerifiedIdentity> {
  const now = options.now ?? Date.now;
  if (token.length > MAX_TOKEN_LENGTH) throw formatError('token is too large');
  if (!token.startsWith(V1_PREFIX)) throw formatError(`token is missing expected "${V1_PREFIX}" prefix`);
  const decoded = decodeRawBase64Url(token.slice(V1_PREFIX.length));

  let url: URL;
  try {
    url = new URL(decoded);
  } catch {
    throw formatError('the token does not hold a URL');
  }
  const protocol = options.stsProtocol ?? 'https:';
  if (url.protocol !== protocol) throw formatError(`unexpected scheme "${url.protocol.replace(/:$/, '')}" in pre-signed URL`);
  if (url.host !== options.stsHost.toLowerCase()) throw formatError(`unexpected hostname "${url.host}" in pre-signed URL`);
  if (url.pathname !== '/') throw formatError('unexpected path in pre-signed URL');

  const params = new URLSearchParams(url.search);
  const lower = new Map<string, string>();
  for (const key of new Set(params.keys())) {
    if (!PARAMETER_WHITELIST.has(key.toLowerCase())) throw formatError(`non-whitelisted query parameter "${key}"`);
    const values = params.getAll(key);
    if (values.length !== 1 || lower.has(key.toLowerCase())) throw formatError('query parameter with multiple values not supported');
    lower.set(key.toLowerCase(), values[0] ?? '');
  }
  if (lower.get('action') !== 'GetCallerIdentity') throw formatError('unexpected action parameter in pre-signed URL');
  const signedHeaders = (lower.get('x-amz-signedheaders') ?? '').split(';').map((h) => h.toLowerCase());
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) {
    throw formatError(`client did not sign the ${CLUSTER_ID_HEADER} header in the pre-signed URL`);
  }
  // STS ignores X-Amz-Expires for this call (15 minutes after X-Amz-Date regardless); the
  // authenticator only bounds it.
  const expiresText = lower.get('x-amz-expires') ?? '';
  const expires = /^\d+$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expires >= 0 && expires <= 900)) throw formatError(`invalid X-Amz-Expires parameter in pre-signed URL: ${expiresText || 'missing'}`);
  const date = lower.get('x-amz-date');
  if (!date) throw formatError('X-Amz-Date parameter must be present in pre-signed URL');
  const signedAt = parseAmzDate(date);
  if (now() > signedAt + PRESIGNED_URL_LIFETIME_MS) {
    throw formatError(`X-Amz-Date parameter is expired (15 minute expiration) ${new Date(signedAt).toISOString()}`);
  }
  const accessKeyId = (lower.get('x-amz-credential') ?? '').split('/')[0] ?? '';

  if (options.signingKeys) await checkSignature(url, params, options.clusterId, options.signingKeys);

  let response: Response;
  try {
    response = await fetch(url, {
      method: 'GET',
      headers: { [CLUSTER_ID_HEADER]: options.clusterId, accept: 'application/json' },
      // The authenticator does not follow redirects: a redirect is not an answer from STS.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.stsTimeoutMs ?? 10_000),
    });
  } catch (error) {
    // Never echo the URL: it is the credential.
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw stsError(`error during GET: ${cause}`);
  }
  const body = await response.text();
  if (response.status !== 200) throw stsError(`error from AWS (expected 200, got ${response.status})`);
  const caller = parseCallerIdentity(body);

  const canonicalArn = options.acceptNonCanonicalArns?.includes(caller.arn) ? caller.arn : canonicalizeArn(caller.arn);
  const userIdParts = caller.userId.split(':');
  if (userIdParts.length > 2) throw stsError(`malformed UserID "${caller.userId}"`);
  return {
    arn: caller.arn,
    canonicalArn,
    accountId: caller.account,
    userId: userIdParts[0] ?? '',
    ...(userIdParts.length === 2 ? { sessionName: userIdParts[1] } : {}),
    accessKeyId,
  };
}

/** The TokenReview status for a token: authenticated with a mapped user, or not with the reason. */
export async function reviewEksToken(token: string, options: EksTokenWebhookOptions): Promise<TokenReviewStatus> {
  try {
    const identity = await verifyToken(token, options);
    const user = mapIdentity(identity, options.identities);
    const extra: Record<string, string[]> = {
      arn: [identity.arn],
      canonicalArn: [identity.canonicalArn],
      accountId: [identity.accountId],
      accessKeyId: [identity.accessKeyId],
    };
    if (identity.sessionName) extra.sessionName = [identity.sessionName];
    return {
      authenticated: true,
      user: { username: user.username, uid: `aws-iam-authenticator:${identity.accountId}:${identity.userId}`, groups: user.groups, extra },
    };
  } catch (error) {
    if (error instanceof TokenRefused) return { authenticated: false, error: error.message };
    // Anything unexpected still refuses: a webhook bug must not let a token in.
    return { authenticated: false, error: `token review failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_REVIEW_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the webhook on a free loopback port. */
export async function startEksTokenWebhook(options: EksTokenWebhookOptions): Promise<EksTokenWebhook> {
  const reviews: TokenReviewDecision[] = [];

  async function review(token: string): Promise<TokenReviewStatus> {
    const status = await reviewEksToken(token, options);
    reviews.push({
      at: new Date().toISOString(),
      authenticated: status.authenticated,
      ...(status.user ? { username: status.user.username, uid: status.user.uid, groups: status.user.groups, arn: status.user.extra?.arn?.[0] } : {}),
      ...(status.error ? { error: status.error } : {}),
    });
    return status;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      send(res, 405, { error: 'POST a TokenReview' });
      return;
    }
    let request: { apiVersion?: unknown; kind?: unknown; spec?: { token?: unknown } };
    try {
      request = JSON.parse(await readBody(req)) as typeof request;
    } catch (error) {
      send(res, 400, { error: `not a TokenReview: ${(error as Error).message}` });
      return;
    }
    if (request?.kind !== 'TokenReview' || typeof request.spec?.token !== 'string') {
      send(res, 400, { error: 'not a TokenReview with spec.token' });
      return;
    }
    // kube-apiserver sends v1beta1 or v1 (--authentication-token-webhook-version); answer in kind.
    const apiVersion = request.apiVersion === 'authentication.k8s.io/v1beta1' ? 'authentication.k8s.io/v1beta1' : 'authentication.k8s.io/v1';
    const status = await review(request.spec.token);
    send(res, 200, { apiVersion, kind: 'TokenReview', status });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/authenticate`,
    reviews,
    review,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Writes the kubeconfig-format file kube-apiserver reads from
 * `--authentication-token-webhook-config-file`: the webhook is the "cluster", the apiserver the "user".
 */
export function writeWebhookConfig(path: string, url: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'eks-token-webhook', cluster: { server: url } }],
    users: [{ name: 'kube-apiserver', user: {} }],
    contexts: [{ name: 'webhook', context: { cluster: 'eks-token-webhook', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
