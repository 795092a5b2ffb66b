/**
 * The fuzz suite's requests, as fast-check arbitraries: for every operation of the OpenAPI
 * document, arbitrary path parameters, query strings, headers and bodies, near-valid bodies with
 * exactly one field broken, and ServiceNow webhook calls with good, bad and stale signatures.
 *
 * A generated request is a plain description (`RequestSpec`): tokens are named, not spelled, huge
 * and deeply nested bodies are patterns, and webhook signatures are computed when the request is
 * sent. So the 10,000 requests of a run fit in memory, a seed reproduces them on another platform
 * (whose tokens and secrets are new), and a printed counterexample holds no secret.
 */
import fc from 'fast-check';
import type { Operation } from '../../api/openapi/types';
import { RUN_STATUSES } from '../../shared/contracts/run';
import { DEPLOY_STAGES } from '../../shared/contracts/deploy';
import type { z } from 'zod';
import { payloadsSchema } from '../../api/routes/codec';
import { PROJECT_CLASSES } from '../../shared/project-templates/classes';
import { configEntryBodySchema } from '../../shared/schemas/config';
import { deploymentRequestSchema } from '../../shared/schemas/deployment';
import { landingZoneRequestSchema, landingZoneUpdateSchema } from '../../shared/schemas/landing-zone';
import { serviceNowWebhookSchema } from '../../shared/schemas/servicenow-webhook';

export type TokenName = 'admin' | 'payments' | 'retailAdmin' | 'ledgerOwner';

/** How the Authorization header is spelled; `valid` formats authenticate, the others must not. */
export type AuthSpec =
  | { kind: 'none' }
  | { kind: 'token'; who: TokenName; format: 'Bearer' | 'bearer' | 'BEARER-spaced' | 'appended' | 'truncated' | 'basic' | 'bare' | 'twice' | 'other-scheme' }
  | { kind: 'raw'; value: string };

/** A body, materialised when sent: `pattern` repeats parts (huge strings, deep nesting) without holding them. */
export type BodySpec =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'pattern'; parts: [string, number][] };

/** The webhook's signature headers, computed when the request is sent (timestamps are relative to then). */
export type SignatureSpec =
  | { mode: 'valid'; ageSec: number }
  | { mode: 'stale'; ageSec: number }
  | { mode: 'wrong-secret'; secret: string }
  | { mode: 'tampered' }
  | { mode: 'missing-timestamp' | 'missing-signature' | 'missing-both' }
  | { mode: 'garbage'; timestamp: string | undefined; signature: string | undefined };

export interface RequestSpec {
  /** The operation the request was generated for, `METHOD /template` (or `OTHER`). */
  operation: string;
  /** What the generator meant, e.g. `near-valid route.host`, `arbitrary json`, `deep nesting`. */
  variant: string;
  /** True when the body was broken on purpose (the schema refuses it): the answer must be 4xx. */
  mustRefuse: boolean;
  method: string;
  /** Path and query exactly as sent (no client-side normalisation: `..` and bad escapes reach the server). */
  path: string;
  auth: AuthSpec;
  contentType: string | undefined;
  headers: [string, string][];
  body: BodySpec | undefined;
  signature: SignatureSpec | undefined;
}

/** A documented operation the fuzz covers. */
export interface FuzzOperation {
  key: string;
  method: string;
  template: string;
  operation: Operation;
}

/** Marks a field the breaker removes. */
const DELETE = '\u0000delete\u0000';
/** Replaced by the codec's current key id when the request is sent (it is new on every platform). */
export const KEY_ID_PLACEHOLDER = 'KEY-ID-PLACEHOLDER';

// ---------------------------------------------------------------- building blocks

const HEX = [...'0123456789abcdef'];
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
/** What an HTTP header value may hold (visible ASCII, space, tab and latin-1), so the client sends it as is. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) }).map((c) => String.fromCharCode(c)), maxLength });
const anyText = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }), fc.string({ unit: 'grapheme', maxLength }));

/** A valid DNS label of at most `max` characters. */
export const label = (max = 20) =>
  fc
    .tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), maxLength: Math.min(max - 2, 12) }), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'))
    .map(([a, b, c]) => (a + b + c).slice(0, max))
    .filter((s) => /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s));

/** Values that break a DNS label of at most `max` characters. */
const badLabel = (max: number) =>
  fc.constantFrom('', 'Payments', 'pay ments', '1abc', 'abc-', '-abc', 'a_b', 'a.b', 'é', 'x'.repeat(max + 1), 'a\u0000b', '💥', 'null', ' payments');

const PROJECTS = ['payments', 'orders', 'ledger'];

/** A value of another JSON type than `type`. */
function wrongType(type: 'string' | 'number' | 'object' | 'array' | 'boolean'): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 5 }),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    object: fc.constantFrom({}, { a: 1 }),
    array: fc.constantFrom([], [1], ['a', 'b']),
    boolean: fc.boolean(),
    null: fc.constant(null),
  };
  return fc.oneof(...Object.entries(all).filter(([name]) => name !== type).map(([, arbitrary]) => arbitrary));
}

// ---------------------------------------------------------------- path parameters and queries

/** Percent-encodes everything outside visible ASCII, leaving `/ ? # % .` raw: structure-changing paths. */
export function encodeRaw(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => (byte > 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const SPECIAL_SEGMENTS = [
  '..', '.', '%2e%2e', '%2E', '.%2e', '%', '%%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '%00', '%2F', 'a%2Fb', '..%2F..%2Fetc', '%u0041', '%25', '%252e%252e',
  '~', "'", '"', '\\', '*', '$', 'null', 'undefined', '__proto__', 'constructor', 'toString', '%20', '+', ';', ',', '=', '@', ':', '', '?', '#', '/', '//', '..;',
];

/** Plausible values of a path parameter, by name. */
function goodParam(name: string): fc.Arbitrary<string> {
  switch (name) {
    case 'id':
      return fc
        .tuple(fc.constantFrom(...PROJECTS, 'Payments'), fc.oneof(label(), fc.constant('ledger')), fc.constantFrom('dev', 'staging', 'prod', 'qa'), hex(16))
        .map(([project, service, environment, digest]) => `deploy.${project}.${service}.${environment}.${digest}`);
    case 'project':
      return fc.oneof(fc.constantFrom(...PROJECTS), label(30));
    case 'tenant':
      return fc.oneof(fc.constantFrom('retail', 'other'), label(30));
    case 'key':
      return fc.oneof(fc.constantFrom('LOG_LEVEL', 'service.port', 'probes.readinessPath', 'db.password', 'api_token', 'a'), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,30}$/));
    default:
      return label(30);
  }
}

/** A path parameter as it appears in the request path (already escaped, or deliberately not). */
function pathParam(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: goodParam(name).map(encodeURIComponent) },
    { weight: 2, arbitrary: goodParam(name).chain((good) => fc.constantFrom(good.toUpperCase(), `${good}x`, good.slice(0, -1), encodeRaw(`${good} `), [...good].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''), `${good}%`)) },
    { weight: 2, arbitrary: anyText(40).map(encodeURIComponent) },
    { weight: 2, arbitrary: anyText(40).map(encodeRaw) },
    { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_SEGMENTS) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '%41', '%C3%A9', '.', '%'), fc.integer({ min: 200, max: 4000 })).map(([unit, chars]) => unit.repeat(Math.ceil(chars / unit.length))) },
  );
}

/** Values worth trying for a query parameter, by name; anything else for names a future schema adds. */
function queryValue(name: string): fc.Arbitrary<string> {
  const known: Record<string, string[]> = {
    limit: ['1', '20', '100', '0', '101', '-1', '1.5', 'abc', '1e2', ' 5', '0x10', '', 'Infinity', '99999999999999999999'],
    cursor: ['', 'abc', 'AAAA', '!!', '%', 'x'.repeat(4097), 'CiQ2ZmE0', '-_-_'],
    project: [...PROJECTS, 'Payments', '', 'a'.repeat(70), '*'],
    service: ['ledger', 'Ledger', ''],
    environment: ['dev', 'prod', 'qa', 'DEV', '', "dev' OR '1'='1"],
    status: [...RUN_STATUSES, 'RUNNING', 'bogus', ''],
    stage: [...DEPLOY_STAGES, 'compensate', 'done', 'nope'],
    changeNumber: ['CHG0030001', 'chg1', 'CHG1', "CHG0030001' OR 1=1", ''],
    tenant: ['retail', 'other', 'RETAIL', '', "retail'"],
    force: ['true', 'false', 'TRUE', '1', ''],
    reason: ['because', '', 'x'.repeat(201), 'über'],
  };
  const values = Object.hasOwn(known, name) ? known[name] : undefined;
  return fc.oneof({ weight: 3, arbitrary: values ? fc.constantFrom(...values) : fc.constant('x') }, { weight: 1, arbitrary: anyText(30) });
}

function queryString(names: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: names.length > 0 ? 6 : 0, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant('x') },
    { weight: 1, arbitrary: fc.constantFrom('foo', 'project[x]', '__proto__', 'limit ', 'LIMIT', 'constructor', 'hasOwnProperty', '') },
    { weight: 1, arbitrary: anyText(10) },
  );
  const pair = key.chain((k) => fc.tuple(fc.constant(k), queryValue(k), fc.boolean()));
  const encoded = fc.array(pair, { maxLength: 5 }).map((pairs) =>
    pairs.map(([k, v, raw]) => (raw ? `${encodeRaw(k)}=${encodeRaw(v)}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&'),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: encoded.map((q) => (q ? `?${q}` : '')) },
    { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?a=%zz', '?%', '?limit=1&limit=2', '?project=payments&project=orders', `?${'a=1&'.repeat(1200)}`, '?limit[]=1', '?limit=%00') },
  );
}

// ---------------------------------------------------------------- headers

const TOKEN_NAMES: TokenName[] = ['admin', 'payments', 'retailAdmin', 'ledgerOwner'];

const auth: fc.Arbitrary<AuthSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TOKEN_NAMES).map((who): AuthSpec => ({ kind: 'token', who, format: 'Bearer' })) },
  { weight: 1, arbitrary: fc.constant<AuthSpec>({ kind: 'none' }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...TOKEN_NAMES), fc.constantFrom('bearer', 'BEARER-spaced', 'appended', 'truncated', 'basic', 'bare', 'twice', 'other-scheme') as fc.Arbitrary<'bearer'>)
      .map(([who, format]): AuthSpec => ({ kind: 'token', who, format })),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.constantFrom('Bearer', 'Bearer ', 'Bearer not-a-real-token', 'Basic Zm9vOmJhcg==', 'Bearer \t', 'null', `Bearer ${'x'.repeat(3000)}`), headerText(60)).map((value): AuthSpec => ({ kind: 'raw', value })),
  },
);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON'];
const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', 'application/jsonx', 'application/vnd.api+json', 'multipart/form-data; boundary=x',
      'application/xml', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=bogus', ';;;', '*/*', 'application/json, text/plain', '',
    ),
  },
  { weight: 1, arbitrary: headerText(40) },
);

/** Extra headers: an Idempotency-Key, the codec's X-Namespace and Origin, encodings, nonsense. */
const extraHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('Idempotency-Key'), fc.oneof(printable(40), fc.constantFrom('has spaces in it', 'x'.repeat(256), '', 'é'))),
    fc.tuple(fc.constant('X-Namespace'), fc.oneof(fc.constantFrom('default', 'other', ''), headerText(20))),
    fc.tuple(fc.constant('Origin'), fc.constantFrom('http://localhost:8233', 'http://127.0.0.1:8233', 'http://evil.example.com', 'null', '')),
    fc.tuple(fc.constant('Content-Encoding'), fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip')),
    fc.tuple(fc.constant('Accept'), fc.constantFrom('application/xml', 'text/html', '*/*', '')),
    fc.tuple(fc.constantFrom('X-Forwarded-For', 'X-Fuzz', 'If-None-Match', 'Range'), headerText(40)),
  ),
  { maxLength: 2 },
);

// ---------------------------------------------------------------- bodies

/** Bodies that fit no schema: arbitrary JSON, wrong top-level types, bytes that are not JSON, huge and deep. */
const garbageBody: fc.Arbitrary<{ variant: string; body: BodySpec }> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ variant: 'arbitrary json', body: { kind: 'json', value } as BodySpec })) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, 0, -0, 'string', true, [], [1, 2], {}, 1e308).map((value) => ({ variant: 'wrong top-level type', body: { kind: 'json', value } as BodySpec })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom('{"project": ', '{', '}', 'NaN', "{'a':1}", '{"a":1,}', '\uFEFF{}', '[1,2', 'undefined', '{"a":1}{"b":2}', '<xml/>', 'project=payments&service=x', '', '{"a":1e999}', '{"a":"\\ud800"}', '{"a":"\\u00"}', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}', '{"project":"payments","project":"orders"}'),
        anyText(200),
      )
      .map((text) => ({ variant: 'not json', body: { kind: 'text', text } as BodySpec })),
  },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((bytes) => ({ variant: 'random bytes', body: { kind: 'bytes', bytes } as BodySpec })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 50, max: 200_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => ({
      variant: 'deep nesting',
      body: { kind: 'pattern', parts: [['{"requestedBy":', 1], [open, depth], ['1', 1], [open === '[' ? ']' : '}', depth], ['}', 1]] } as BodySpec,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 10_000, max: 1_200_000 }), fc.constantFrom('x', 'é', '\\u0000', '"')).map(([length, unit]) => ({
      variant: 'huge string',
      body: { kind: 'pattern', parts: [['{"project":"payments","requestedBy":"', 1], [unit === '"' ? '\\"' : unit, length], ['"}', 1]] } as BodySpec,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 60_000 }).map((n) => ({ variant: 'huge array', body: { kind: 'pattern', parts: [['{"environments":[', 1], ['"dev",', n], ['"dev"]}', 1]] } as BodySpec })),
  },
);

interface BodyModel {
  /** The schema the route validates with: a break that it still accepts is not generated. */
  schema: z.ZodType;
  /** Valid bodies (before the one break): what the schema accepts. */
  valid: fc.Arbitrary<Record<string, unknown>>;
  /** Per dotted field: values that break it (DELETE removes it); `(unknown)` adds an unknown field. */
  breakers: Record<string, fc.Arbitrary<unknown>>;
  /** Breaks the schema accepts but the service refuses (policy, landing zones); applied to the whole body. */
  semantic?: fc.Arbitrary<[string, (body: Record<string, unknown>) => Record<string, unknown>]>;
  /** How often the body is sent unbroken (the guard still refuses what could start a run). */
  unbrokenWeight: number;
}

function strip(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

const opt = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const host = fc.tuple(label(), fc.constantFrom('payments.example.com', 'apps.example.com')).map(([a, b]) => `${a}.${b}`);
const routePath = fc.oneof(fc.constantFrom('/', '/api', '//api//v1', '/a/b-c_d.e~f'), fc.stringMatching(/^\/[a-z0-9/]{0,30}$/));
const image = fc.tuple(fc.constantFrom('registry.example.com/payments/ledger', 'ledger', 'registry.localhost:5000/retail/demo'), opt(fc.constantFrom('1.4.2', 'latest', 'v1_0')), hex(64)).map(
  ([repo, tag, digest]) => `${repo}${tag ? `:${tag}` : ''}@sha256:${digest}`,
);
const ENVIRONMENTS = ['dev', 'staging', 'prod', 'hurry'];
const quantity = fc.constantFrom('500m', '2', '4Gi', '1.5', '100Mi');
const quota = fc.record({ requestsCpu: quantity, requestsMemory: quantity, limitsCpu: quantity, limitsMemory: quantity, pods: fc.integer({ min: 1, max: 10_000 }) }, { requiredKeys: [] });

const MODELS: Record<string, BodyModel> = {
  DeploymentRequest: {
    schema: deploymentRequestSchema,
    valid: fc
      .record({
        project: fc.constantFrom('payments', 'payments', 'payments', 'orders'),
        service: label(40),
        environment: fc.constantFrom(...ENVIRONMENTS),
        image,
        port: opt(fc.integer({ min: 1, max: 65_535 })),
        replicas: opt(fc.integer({ min: 1, max: 3 })),
        route: fc.record({ host, path: opt(routePath) }).map(strip),
        withScan: fc.boolean(),
        requestedBy: opt(fc.string({ minLength: 1, maxLength: 50 })),
      })
      .map(({ withScan, ...body }) => strip({ ...body, scanReport: withScan ? { SchemaVersion: 2, ArtifactName: body.image, Results: [] } : undefined })),
    breakers: {
      project: fc.oneof(fc.constant(DELETE), wrongType('string'), badLabel(30)),
      service: fc.oneof(fc.constant(DELETE), wrongType('string'), badLabel(40)),
      environment: fc.oneof(fc.constant(DELETE), wrongType('string'), badLabel(20)),
      image: fc.oneof(
        fc.constant(DELETE),
        wrongType('string'),
        fc.constantFrom('registry.example.com/payments/ledger:latest', 'ledger@sha256:abc', `UPPER/x@sha256:${'a'.repeat(64)}`, `ledger@sha256:${'A'.repeat(64)}`, `x@sha256:${'a'.repeat(64)} `, `${'a/'.repeat(260)}x@sha256:${'a'.repeat(64)}`),
      ),
      port: fc.oneof(wrongType('number'), fc.constantFrom(0, -1, 65_536, 1.5, 1e21)),
      replicas: fc.oneof(wrongType('number'), fc.constantFrom(0, -1, 501, 2.5)),
      route: fc.oneof(fc.constant(DELETE), wrongType('object')),
      'route.host': fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('not a host', 'UPPER.example.com', 'localhost', 'a..b.com', `${'x'.repeat(254)}.com`, '-a.example.com', '')),
      'route.path': fc.oneof(wrongType('string'), fc.constantFrom('api', '/../x', '/a/./b', '/a b', '/x?y', `/${'x'.repeat(200)}`, '/..', '/.')),
      scanReport: fc.oneof(wrongType('object'), fc.constantFrom({ SchemaVersion: 'two' }, { Results: 'x' }, { Results: [{ Target: 'x', Vulnerabilities: [{ Severity: 7 }] }] })),
      requestedBy: fc.oneof(wrongType('string'), fc.constantFrom('', 'x'.repeat(201))),
      '(unknown)': fc.constantFrom('replica', 'Project', 'route_path', 'extra', 'constructor'),
      'route.(unknown)': fc.constantFrom('port', 'Host'),
    },
    semantic: fc.oneof(
      fc.constant<[string, (b: Record<string, unknown>) => Record<string, unknown>]>(['environment not in the policy', (b) => ({ ...b, environment: 'qa' })]),
      fc.integer({ min: 4, max: 500 }).map((n): [string, (b: Record<string, unknown>) => Record<string, unknown>] => ['replicas above maxReplicas', (b) => ({ ...b, environment: 'dev', replicas: n })]),
      label(30)
        .filter((p) => p !== 'payments')
        .map((p): [string, (b: Record<string, unknown>) => Record<string, unknown>] => ['project without a landing zone', (b) => ({ ...b, project: p })]),
      fc.constant<[string, (b: Record<string, unknown>) => Record<string, unknown>]>(['staging without a scan report', (b) => strip({ ...b, environment: 'staging', scanReport: undefined })]),
    ),
    unbrokenWeight: 1,
  },
  LandingZoneRequest: {
    schema: landingZoneRequestSchema,
    valid: fc
      .record({
        project: label(30),
        tenant: fc.oneof(fc.constant('retail'), label(30)),
        class: fc.constantFrom(...PROJECT_CLASSES),
        owners: fc.record({ emails: fc.array(label().map((l) => `${l}@example.com`), { minLength: 1, maxLength: 3 }), group: fc.constantFrom('team-demo', 'cab-prod', 'a.b@c:d') }),
        environments: fc.subarray(ENVIRONMENTS, { minLength: 1 }),
        quota: opt(quota),
      })
      .map(strip),
    breakers: {
      project: fc.oneof(fc.constant(DELETE), wrongType('string'), badLabel(30)),
      tenant: fc.oneof(fc.constant(DELETE), wrongType('string'), badLabel(30)),
      class: fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('', 'x'.repeat(41))),
      owners: fc.oneof(fc.constant(DELETE), wrongType('object')),
      'owners.emails': fc.oneof(fc.constant(DELETE), wrongType('array'), fc.constantFrom([], ['not-an-email'], ['a@b'], Array.from({ length: 21 }, (_, i) => `o${i}@example.com`))),
      'owners.group': fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('', 'has space', '-lead', 'x'.repeat(129))),
      environments: fc.oneof(fc.constant(DELETE), wrongType('array'), fc.constantFrom([], ['dev', 'dev'], ['DEV'], ENVIRONMENTS.concat(ENVIRONMENTS, ENVIRONMENTS))),
      quota: fc.oneof(wrongType('object'), fc.constantFrom({ pods: 0 }, { pods: 1.5 }, { requestsCpu: '1 core' }, { requestsCpu: 2 }, { bogus: '1' })),
      '(unknown)': fc.constantFrom('classes', 'owner', 'quotas'),
      'owners.(unknown)': fc.constantFrom('email'),
    },
    semantic: fc.oneof(
      fc.constant<[string, (b: Record<string, unknown>) => Record<string, unknown>]>(['unknown class', (b) => ({ ...b, class: 'cobol' })]),
      fc.constant<[string, (b: Record<string, unknown>) => Record<string, unknown>]>(['environment not in the policy', (b) => ({ ...b, environments: ['dev', 'qa'] })]),
      fc.constant<[string, (b: Record<string, unknown>) => Record<string, unknown>]>(['project has a landing zone', (b) => ({ ...b, project: 'payments' })]),
    ),
    unbrokenWeight: 1,
  },
  LandingZoneUpdate: {
    schema: landingZoneUpdateSchema,
    valid: fc.oneof(
      fc.record({ addEnvironments: fc.subarray(ENVIRONMENTS, { minLength: 1 }) }),
      fc.record({ quota }),
      fc.record({ addEnvironments: fc.subarray(ENVIRONMENTS, { minLength: 1 }), quota }),
    ),
    breakers: {
      addEnvironments: fc.oneof(wrongType('array'), fc.constantFrom([], ['dev', 'dev'], ['QA'], [''])),
      quota: fc.oneof(wrongType('object'), fc.constantFrom({ pods: -1 }, { limitsMemory: '4 GiB' }, { extra: 1 })),
      '(unknown)': fc.constantFrom('removeEnvironments', 'environments'),
    },
    unbrokenWeight: 2,
  },
  ConfigEntryBody: {
    schema: configEntryBodySchema,
    valid: fc.oneof(
      fc.record({ value: anyText(40), environment: opt(fc.constantFrom(...ENVIRONMENTS, 'qa')) }).map(strip),
      fc.record({ secretRef: fc.constantFrom('vault://kv/app/db#password', 'vault://x'), environment: opt(fc.constantFrom(...ENVIRONMENTS)) }).map(strip),
    ),
    breakers: {
      value: fc.oneof(wrongType('string')),
      secretRef: wrongType('string'),
      '(both value and secretRef)': fc.constant('vault://kv/app/db#password'),
      environment: fc.oneof(wrongType('string'), badLabel(20)),
      '(unknown)': fc.constantFrom('scope', 'key', 'secret'),
    },
    unbrokenWeight: 3,
  },
  ServiceNowDecision: {
    schema: serviceNowWebhookSchema,
    valid: fc
      .record({
        number: fc.integer({ min: 0, max: 9_999_999 }).map((n) => `CHG${String(n).padStart(7, '0')}`),
        approval: fc.constantFrom('approved', 'rejected'),
        approver: fc.string({ minLength: 1, maxLength: 40 }),
        sys_id: opt(hex(32)),
        // A correlation id that is not a run id is refused at once; a run id (or none) makes the
        // API wait up to 3 s for visibility: few of those, or the run takes minutes.
        correlation_id: fc.oneof({ weight: 9, arbitrary: fc.string({ maxLength: 30 }).map((s) => `not-a-run-${s}`) }, { weight: 1, arbitrary: fc.uuid() }),
        comment: opt(fc.string({ maxLength: 100 })),
        group: opt(fc.string({ maxLength: 40 })),
        event_id: opt(fc.string({ maxLength: 40 })),
      })
      .map(strip),
    breakers: {
      number: fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('chg0030001', 'CHG1', 'CHG0030001 ', '', `CHG${'1'.repeat(13)}`)),
      approval: fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('maybe', 'APPROVED', '')),
      approver: fc.oneof(fc.constant(DELETE), wrongType('string'), fc.constantFrom('', 'x'.repeat(201))),
      sys_id: fc.oneof(wrongType('string'), fc.constantFrom('XYZ', 'A'.repeat(32))),
      correlation_id: fc.oneof(wrongType('string'), fc.constant('x'.repeat(101))),
      comment: fc.oneof(wrongType('string'), fc.constant('x'.repeat(4001))),
      group: fc.oneof(wrongType('string'), fc.constant('x'.repeat(201))),
      event_id: fc.oneof(wrongType('string'), fc.constant('x'.repeat(101))),
    },
    unbrokenWeight: 1,
  },
  CodecPayloads: {
    schema: payloadsSchema,
    valid: fc.record({
      payloads: fc.array(
        fc
          .record({
            metadata: opt(
              fc.oneof(
                fc.constant({ encoding: Buffer.from('json/plain').toString('base64') }),
                fc.constant({ encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': KEY_ID_PLACEHOLDER }),
                fc.constant({ encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('unknownkey01').toString('base64') }),
                fc.constant({ encoding: Buffer.from('binary/encrypted').toString('base64') }),
                fc.dictionary(fc.string({ maxLength: 10 }), fc.base64String({ maxLength: 12 }), { maxKeys: 2 }),
              ),
            ),
            data: opt(fc.base64String({ maxLength: 80 })),
          })
          .map(strip),
        { maxLength: 3 },
      ),
    }),
    breakers: {
      payloads: fc.oneof(fc.constant(DELETE), wrongType('array'), fc.constantFrom([1], [{ data: '!!' }], [{ metadata: { encoding: 'not base64!' } }], [{ extra: 1 }], [{ metadata: [] }])),
      '(unknown)': fc.constantFrom('namespace'),
    },
    unbrokenWeight: 4,
  },
};

/** Sets (or with DELETE removes) the dotted field of a copy; `(unknown)` adds a field no schema knows. */
function withField(body: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = field.split('.');
  const copy: Record<string, unknown> = { ...body };
  if (head === undefined) return copy;
  if (head === '(both value and secretRef)') return { ...copy, value: 'x', secretRef: value };
  if (head === '(unknown)') {
    copy[String(value)] = 'fuzz';
    return copy;
  }
  if (rest.length > 0) {
    const inner = copy[head];
    copy[head] = withField(typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {}, rest.join('.'), value);
    return copy;
  }
  if (value === DELETE) delete copy[head];
  else copy[head] = value;
  return copy;
}

/** Near-valid bodies of a schema: valid ones with exactly one field broken (or, rarely, none). */
function nearValid(model: BodyModel): fc.Arbitrary<{ variant: string; body: BodySpec; broken: boolean }> {
  const fields = Object.keys(model.breakers);
  const broken = fc
    .tuple(model.valid, fc.constantFrom(...fields))
    .chain(([valid, field]) => model.breakers[field]!.map((value) => ({ field, value: withField(valid, field, value) })))
    // Provably refused: the route's own schema says so (the placeholder key id is valid base64 once sent).
    .filter(({ value }) => !model.schema.safeParse(JSON.parse(JSON.stringify(value).replaceAll(KEY_ID_PLACEHOLDER, 'AAAA'))).success)
    .map(({ field, value }) => ({ variant: `near-valid ${field}`, body: { kind: 'json', value } as BodySpec, broken: true }));
  const arms: fc.WeightedArbitrary<{ variant: string; body: BodySpec; broken: boolean }>[] = [
    { weight: 10, arbitrary: broken },
    { weight: model.unbrokenWeight, arbitrary: model.valid.map((value) => ({ variant: 'valid body', body: { kind: 'json', value } as BodySpec, broken: false })) },
  ];
  if (model.semantic) {
    const semantic = model.semantic;
    arms.push({ weight: 3, arbitrary: fc.tuple(model.valid, semantic).map(([valid, [what, apply]]) => ({ variant: `near-valid ${what}`, body: { kind: 'json', value: apply(valid) } as BodySpec, broken: false })) });
  }
  return fc.oneof(...arms);
}

// ---------------------------------------------------------------- webhook signatures

const signature: fc.Arbitrary<SignatureSpec> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -240, max: 240 }).map((ageSec): SignatureSpec => ({ mode: 'valid', ageSec })) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 301, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -301 })).map((ageSec): SignatureSpec => ({ mode: 'stale', ageSec })) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(''), printable(40)).map((secret): SignatureSpec => ({ mode: 'wrong-secret', secret: `other-${secret}` })) },
  { weight: 1, arbitrary: fc.constant<SignatureSpec>({ mode: 'tampered' }) },
  { weight: 1, arbitrary: fc.constantFrom<SignatureSpec>({ mode: 'missing-timestamp' }, { mode: 'missing-signature' }, { mode: 'missing-both' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        opt(fc.oneof(fc.constantFrom('1e9', ' 12', '0x1f', '-5', '', '9'.repeat(13), 'now', '1700000000.5'), headerText(15))),
        opt(fc.oneof(fc.constantFrom('v1=', 'v2=abc', 'v1=AAAA', 'v1=!!!', 'sha256=abc', `v1=${'A'.repeat(44)}`), headerText(60))),
      )
      .map(([timestamp, sig]): SignatureSpec => ({ mode: 'garbage', timestamp, signature: sig })),
  },
);

// ---------------------------------------------------------------- requests per operation

/**
 * Very long, but within what Node's HTTP parser takes (16 KiB of request line and headers, tokens
 * included): beyond it Node answers 431 itself, before the app, without a problem body.
 */
const MAX_PATH = 10_000;
const withinHeaderLimit = (path: string): string => path.slice(0, MAX_PATH);

function fillTemplate(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  if (names.length === 0) return fc.constant(template);
  return fc.tuple(...names.map(pathParam)).map((values) => {
    let i = 0;
    return template.replace(/\{[^}]+\}/g, () => values[i++] ?? '');
  });
}

/** The request-body schema an operation names (`#/components/schemas/<name>`), if any. */
function bodySchemaName(operation: Operation): string | undefined {
  const schema = operation.requestBody?.content?.['application/json']?.schema as { $ref?: string } | undefined;
  return schema?.$ref?.split('/').pop();
}

function queryNames(operation: Operation): string[] {
  return (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
}

function requestFor(op: FuzzOperation): fc.Arbitrary<RequestSpec> {
  const schemaName = bodySchemaName(op.operation);
  const model = schemaName ? MODELS[schemaName] : undefined;
  const isWebhook = op.template.includes('webhooks');
  const bodies: fc.WeightedArbitrary<{ variant: string; body: BodySpec | undefined; broken: boolean }>[] = [
    { weight: 3, arbitrary: garbageBody.map((g) => ({ ...g, broken: false })) },
  ];
  if (model) bodies.push({ weight: 8, arbitrary: nearValid(model) });
  // Operations without a body get one now and then, and are usually sent without.
  if (!schemaName) bodies.push({ weight: 12, arbitrary: fc.constant({ variant: 'no body', body: undefined, broken: false }) });
  return fc
    .record({
      path: fillTemplate(op.template),
      query: queryString(queryNames(op.operation)),
      auth: isWebhook ? fc.oneof({ weight: 5, arbitrary: fc.constant<AuthSpec>({ kind: 'none' }) }, { weight: 1, arbitrary: auth }) : auth,
      contentType: schemaName || isWebhook ? contentType : fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: contentType }),
      headers: extraHeaders,
      body: fc.oneof(...bodies),
      signature: isWebhook ? signature.map((s): SignatureSpec | undefined => s) : fc.constant(undefined),
    })
    .map(({ path, query, auth: authSpec, contentType: type, headers, body, signature: sig }) => ({
      operation: op.key,
      variant: body.variant,
      mustRefuse: body.broken,
      method: op.method,
      path: withinHeaderLimit(`${path}${query}`),
      auth: authSpec,
      contentType: body.body === undefined ? undefined : type,
      headers,
      body: body.body,
      signature: sig,
    }));
}

/** Requests no route takes: other methods on documented paths, and paths next to them. */
function unrouted(operations: FuzzOperation[]): fc.Arbitrary<RequestSpec> {
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
      path: fc.oneof(
        fc.constantFrom(...operations.map((o) => o.template)).chain(fillTemplate),
        fc.constantFrom('/', '/v1', '/v1/', '/v2/deployments', '/V1/DEPLOYMENTS', '/v1/deployments/a/b/c', '/docs/assets/../../package.json', '/docs/assets/%2e%2e/%2e%2e/package.json', '/codec', '/healthz/x', '//v1//deployments'),
      ),
      auth,
      body: fc.option(garbageBody, { freq: 3 }),
    })
    .map(({ method, path, auth: authSpec, body }) => ({
      operation: 'OTHER',
      variant: 'other method or path',
      mustRefuse: false,
      method,
      path: withinHeaderLimit(path),
      auth: authSpec,
      contentType: body ? 'application/json' : undefined,
      headers: [],
      body: body?.body,
      signature: undefined,
    }));
}

/** Every documented operation with the same weight, plus requests no route takes. */
export function requestArbitrary(operations: FuzzOperation[]): fc.Arbitrary<RequestSpec> {
  return fc.oneof(
    { weight: operations.length * 10, arbitrary: fc.constantFrom(...operations).chain(requestFor) },
    { weight: 10, arbitrary: unrouted(operations) },
  );
}
