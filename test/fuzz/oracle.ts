/**
 * What the fuzz suite does with a generated request: materialise it (tokens, signatures, bodies),
 * make sure it cannot start a run, send it as is (node:http, so `..` and bad escapes reach the
 * server unnormalised), and judge the answer.
 */
import { request, type Agent } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { PlatformConfig } from '../../shared/config';
import { hashToken } from '../../shared/config';
import { PROJECT_CLASSES } from '../../shared/project-templates/classes';
import { deploymentRequestSchema } from '../../shared/schemas/deployment';
import { landingZoneDecommissionQuerySchema, landingZoneRequestSchema, landingZoneUpdateSchema } from '../../shared/schemas/landing-zone';
import type { PlatformStore } from '../../shared/store';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import type { DocumentedResponses } from '../helpers/openapi-responses';
import { KEY_ID_PLACEHOLDER, type AuthSpec, type BodySpec, type RequestSpec, type TokenName } from './requests';

export interface FuzzContext {
  config: PlatformConfig;
  store: PlatformStore;
  tokens: Record<TokenName, string>;
  webhookSecret: string;
  /** base64 of the codec's current key id. */
  keyIdBase64: string;
}

export interface Materialized {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Set when the guard changed the request so that it cannot start a run. */
  poisoned?: string;
}

function authHeader(spec: AuthSpec, tokens: Record<TokenName, string>): string | undefined {
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'raw') return spec.value;
  const token = tokens[spec.who];
  switch (spec.format) {
    case 'Bearer':
      return `Bearer ${token}`;
    case 'bearer':
      return `bearer ${token}`;
    case 'BEARER-spaced':
      return `BEARER   ${token}  `;
    case 'appended':
      return `Bearer ${token}x`;
    case 'truncated':
      return `Bearer ${token.slice(0, -1)}`;
    case 'basic':
      return `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
    case 'bare':
      return token;
    case 'twice':
      return `Bearer ${token} ${token}`;
    case 'other-scheme':
      return `Token ${token}`;
  }
}

function bodyBytes(spec: BodySpec, keyIdBase64: string): Buffer {
  switch (spec.kind) {
    case 'json':
      return Buffer.from((JSON.stringify(spec.value) ?? 'null').replaceAll(KEY_ID_PLACEHOLDER, keyIdBase64), 'utf8');
    case 'text':
      return Buffer.from(spec.text, 'utf8');
    case 'bytes':
      return Buffer.from(spec.bytes);
    case 'pattern':
      return Buffer.from(spec.parts.map(([part, count]) => part.repeat(count)).join(''), 'utf8');
  }
}

/** The request as it goes on the wire; webhook signatures are computed now, against the clock. */
export function materialize(spec: RequestSpec, ctx: FuzzContext, nowSec = Math.floor(Date.now() / 1000)): Materialized {
  const headers: Record<string, string> = {};
  for (const [name, value] of spec.headers) headers[name.toLowerCase()] = value;
  const authorization = authHeader(spec.auth, ctx.tokens);
  if (authorization !== undefined) headers.authorization = authorization;
  if (spec.contentType !== undefined) headers['content-type'] = spec.contentType;
  const body = spec.body ? bodyBytes(spec.body, ctx.keyIdBase64) : undefined;
  const sig = spec.signature;
  if (sig) {
    const raw = body ?? Buffer.alloc(0);
    const signed = (secret: string, bytes: Buffer | string, ageSec = 0) => signWebhook(secret, bytes, nowSec - ageSec);
    let pair: { timestamp?: string; signature?: string } = {};
    switch (sig.mode) {
      case 'valid':
      case 'stale':
        pair = signed(ctx.webhookSecret, raw, sig.ageSec);
        break;
      case 'wrong-secret':
        pair = signed(sig.secret, raw);
        break;
      case 'tampered':
        pair = signed(ctx.webhookSecret, Buffer.concat([raw, Buffer.from(' ')]));
        break;
      case 'missing-timestamp':
        pair = { signature: signed(ctx.webhookSecret, raw).signature };
        break;
      case 'missing-signature':
        pair = { timestamp: signed(ctx.webhookSecret, raw).timestamp };
        break;
      case 'missing-both':
        break;
      case 'garbage':
        pair = { ...(sig.timestamp !== undefined ? { timestamp: sig.timestamp } : {}), ...(sig.signature !== undefined ? { signature: sig.signature } : {}) };
        break;
    }
    if (pair.timestamp !== undefined) headers[TIMESTAMP_HEADER.toLowerCase()] = pair.timestamp;
    if (pair.signature !== undefined) headers[SIGNATURE_HEADER.toLowerCase()] = pair.signature;
  }
  return { method: spec.method, path: spec.path, headers, body };
}

// ---------------------------------------------------------------- the guard: no generated request may start a run

/**
 * The routes that start runs, as Express matches them: case-insensitive, a trailing slash
 * allowed, the parameter percent-decoded. Deliberately generous (repeated and trailing slashes
 * folded), so the guard looks at more requests than could reach these routes, never fewer.
 */
type StartRoute = { kind: 'deployment' } | { kind: 'landing-zone' } | { kind: 'update' | 'decommission'; project: string };

function startRouteOf(method: string, path: string): StartRoute | undefined {
  // As parseurl/url.parse read it: up to the first ? or #, backslashes as slashes.
  const rawPathname = (path.split(/[?#]/)[0] ?? '').replace(/\\/g, '/');
  const pathname = rawPathname.toLowerCase().replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (method === 'POST' && pathname === '/v1/deployments') return { kind: 'deployment' };
  if (method === 'POST' && pathname === '/v1/landing-zones') return { kind: 'landing-zone' };
  const match = /^\/v1\/landing-zones\/([^/]+)$/.exec(pathname);
  if (!match || (method !== 'PATCH' && method !== 'DELETE')) return undefined;
  // The parameter as Express decodes it; the lower-casing above is undone for it.
  const rawParam = rawPathname.replace(/\/+$/, '').split('/').pop() ?? '';
  try {
    return { kind: method === 'PATCH' ? 'update' : 'decommission', project: decodeURIComponent(rawParam) };
  } catch {
    return undefined; // a malformed escape: 400 before any handler
  }
}

/** The caller as api/auth.ts sees it, or undefined when the header does not authenticate. */
function grantOf(req: Materialized, ctx: FuzzContext): { projects: string[]; roles: string[] } | undefined {
  const header = req.headers.authorization?.trim();
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const hash = hashToken(match[1]);
  return ctx.config.ciTokens.get(hash) ?? ctx.store.tokens.grantFor(hash);
}

const isJsonType = (req: Materialized): boolean => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

function parsedBody(req: Materialized): unknown {
  try {
    return JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The query as Express 5's parser (node:querystring) reads it, under each reading of a `#`: the
 * fragment cut off, kept, or (before the `?`) swallowing the query.
 */
function queryReadings(path: string): unknown[] {
  const question = path.indexOf('?');
  const hash = path.indexOf('#');
  if (question < 0 || (hash >= 0 && hash < question)) return [{}];
  const query = path.slice(question + 1);
  return [parseQueryString(query), parseQueryString(query.split('#')[0] ?? '')];
}

/**
 * Why the request could start a run, or undefined when it provably cannot: it does not reach a
 * starting route, its token may not, its body or query fails the route's own schema, or the
 * policy and the registered landing zones refuse it. Each "cannot" below is a refusal the API
 * makes before it starts anything; everything not recognised counts as "could".
 */
export function couldStartRun(req: Materialized, ctx: FuzzContext): string | undefined {
  const route = startRouteOf(req.method, req.path);
  if (!route) return undefined;
  const grant = grantOf(req, ctx);
  if (!grant) return undefined; // 401
  const admin = grant.roles.includes('platform-admin');
  if (route.kind === 'decommission' || route.kind === 'update') {
    const record = ctx.store.landingZones.find(route.project);
    if (!record) return undefined; // 404
    if (!admin && !grant.roles.includes(`tenant-admin:${record.tenant}`)) return undefined; // 403
    if (route.kind === 'decommission') {
      return queryReadings(req.path).some((q) => landingZoneDecommissionQuerySchema.safeParse(q).success) ? `decommission of ${route.project}` : undefined;
    }
    if (!isJsonType(req) || !landingZoneUpdateSchema.safeParse(parsedBody(req)).success) return undefined; // 415, 400
    return record.spec ? `update of ${route.project}` : undefined; // 409: registered without a spec
  }
  if (!isJsonType(req)) return undefined; // 415
  if (route.kind === 'landing-zone') {
    const parsed = landingZoneRequestSchema.safeParse(parsedBody(req));
    if (!parsed.success || !admin) return undefined; // 400, 403
    const body = parsed.data;
    if (!(PROJECT_CLASSES as readonly string[]).includes(body.class)) return undefined; // 400
    if (body.environments.some((e) => !ctx.config.environments[e])) return undefined; // 400
    if (ctx.store.landingZones.find(body.project)) return undefined; // 409
    return `landing zone for ${body.project}`;
  }
  const parsed = deploymentRequestSchema.safeParse(parsedBody(req));
  if (!parsed.success) return undefined; // 400
  const body = parsed.data;
  if (!grant.projects.includes('*') && !grant.projects.includes(body.project)) return undefined; // 403
  const policy = ctx.config.environments[body.environment];
  if (!policy || body.replicas > policy.maxReplicas) return undefined; // 400
  const key = req.headers['idempotency-key'];
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) return undefined; // 400
  const zone = ctx.store.landingZones.find(body.project);
  if (!zone || !zone.environments.includes(body.environment)) return undefined; // 422
  if (policy.scan.required && !body.scanReport) return undefined; // 422
  return `deployment of ${body.project}/${body.service} to ${body.environment}`;
}

/**
 * Makes a request that could start a run provably unable to: an unknown body field (the three
 * body schemas are strict) or an unknown query parameter (so is the decommission query). The
 * refusal comes from the schema, before the service sees the request; the request is still sent.
 */
export function guard(req: Materialized, ctx: FuzzContext): Materialized {
  const reason = couldStartRun(req, ctx);
  if (!reason) return req;
  const route = startRouteOf(req.method, req.path);
  let poisoned: Materialized;
  if (route?.kind === 'decommission') {
    // Right after the path, so that every reading of the query holds it.
    const end = req.path.search(/[?#]/);
    const [pathname, rest] = end < 0 ? [req.path, ''] : [req.path.slice(0, end), req.path.slice(end)];
    poisoned = { ...req, path: `${pathname}?fuzzPoison=1${rest.startsWith('?') ? `&${rest.slice(1)}` : rest}` };
  } else {
    const body = parsedBody(req) as Record<string, unknown>;
    poisoned = { ...req, body: Buffer.from(JSON.stringify({ ...body, fuzzPoison: true })) };
  }
  if (couldStartRun(poisoned, ctx)) throw new Error(`the guard could not make a request harmless: ${reason}`);
  return { ...poisoned, poisoned: reason };
}

// ---------------------------------------------------------------- sending

export interface Answer {
  status: number;
  contentType: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

export function send(base: URL, req: Materialized, agent: Agent, timeoutMs: number): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    const call = request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started });
      });
      res.on('error', (error) => {
        if (!settled) reject(error);
      });
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      call.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    call.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
    call.end(req.body);
  });
}

// ---------------------------------------------------------------- judging

/** Mutating calls whose success would mean a run started (or existed): deployments, landing zones, the webhook. */
const RUN_ROUTES = /^\/v1\/(deployments|landing-zones|webhooks)(\/|$)/i;

export interface Judgement {
  /** Broken properties: each fails the suite. */
  problems: string[];
  /** Where the answer is not one the OpenAPI document describes (reported; fails with FUZZ_OPENAPI=strict). */
  undocumented: string | undefined;
}

/** Everything wrong with an answer. */
export function judge(spec: RequestSpec, req: Materialized, answer: Answer, documented: DocumentedResponses): Judgement {
  const problems: string[] = [];
  const { status } = answer;
  if (status >= 500) problems.push(`answered ${status}`);
  const pathname = (req.path.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
  // (Express answers OPTIONS on any route itself, with its Allow list.)
  if (status >= 200 && status < 300 && !['GET', 'OPTIONS'].includes(req.method) && RUN_ROUTES.test(pathname)) problems.push(`answered ${status} to a call that starts or steers runs`);
  if (spec.mustRefuse && status < 400) problems.push(`accepted a body with a broken field (${spec.variant}) with ${status}`);
  let json: unknown;
  try {
    json = answer.body.length > 0 ? JSON.parse(answer.body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  if (status >= 400) {
    if (!answer.contentType?.startsWith('application/problem+json')) problems.push(`a ${status} with content type ${answer.contentType ?? '(none)'}, not application/problem+json`);
    const problem = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (problem.status !== status) problems.push(`a ${status} whose problem says status ${JSON.stringify(problem.status)}`);
    if (status === 429 && !answer.headers['retry-after']) problems.push('a 429 without Retry-After');
    for (const member of ['title', 'detail']) {
      if (typeof problem[member] !== 'string' || (problem[member] as string).trim() === '') problems.push(`a ${status} without a ${member}`);
    }
  }
  // The OpenAPI document describes the answer, for requests to a documented operation whose path
  // is one a client library would send (no `.`/`..` segments or fragments it would normalise away;
  // Express itself does not).
  let undocumented: string | undefined;
  const normalised = new URL(req.path, 'http://fuzz.invalid');
  if (spec.operation !== 'OTHER' && status < 500 && normalised.pathname === (req.path.split('?')[0] ?? '') && !req.path.includes('#')) {
    try {
      documented.check(req.method, req.path, status, answer.contentType ?? null, json ?? (answer.body.length > 0 ? answer.body.toString('utf8') : undefined));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A path no template matches (an empty segment, say) answered before routing, by the body
      // parser or the token check: not the document's to describe.
      if (!message.includes('no documented operation')) undocumented = message.slice(0, 400);
    }
  }
  return { problems, undocumented };
}

/** A request in a line or three, without tokens or secrets, for failure reports. */
export function describeRequest(spec: RequestSpec, req: Materialized): string {
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
  const auth = spec.auth.kind === 'token' ? `token ${spec.auth.who} (${spec.auth.format})` : spec.auth.kind === 'raw' ? `Authorization: ${clip(JSON.stringify(spec.auth.value), 60)}` : 'no token';
  const headers = Object.entries(req.headers)
    .filter(([name]) => name !== 'authorization')
    .map(([name, value]) => `${name}: ${clip(JSON.stringify(value), 80)}`)
    .join('; ');
  const body = req.body ? clip(JSON.stringify(req.body.toString('utf8')), 300) : '(none)';
  return `${req.method} ${clip(req.path, 200)} [${spec.operation}, ${spec.variant}${req.poisoned ? `, poisoned: ${req.poisoned}` : ''}]\n      ${auth}; ${headers}\n      body ${body}`;
}
