/**
 * The API's OpenAPI 3.1 document, served at `GET /openapi.json` and rendered at `GET /docs`.
 *
 * Request bodies and query parameters are converted from the very zod schemas the routes validate
 * with, so the document cannot drift from what is accepted; responses come from the schemas in
 * shared/schemas/responses.ts, which the test suite checks every response it receives against
 * (test/helpers/openapi-responses.ts). test/api/openapi.test.ts fails when a route the app
 * registers is missing here, or an operation here has no route.
 */
import { z } from 'zod';
import type { PlatformConfig } from '../../shared/config';
import { auditPageSchema, auditQuerySchema } from '../../shared/schemas/audit';
import { configEntryBodySchema, configEnvironmentSchema } from '../../shared/schemas/config';
import { deploymentRequestSchema, dnsLabel } from '../../shared/schemas/deployment';
import { landingZoneDecommissionQuerySchema, landingZoneRequestSchema, landingZoneUpdateSchema } from '../../shared/schemas/landing-zone';
import { deploymentListQuerySchema, landingZoneListQuerySchema, runListQuerySchema } from '../../shared/schemas/lists';
import {
  codecPayloadsAnswerSchema,
  configEntryWrittenSchema,
  deploymentCancellingSchema,
  deploymentPageSchema,
  deploymentStartedSchema,
  deploymentStatusSchema,
  healthSchema,
  landingZoneOperationStartedSchema,
  landingZoneRunPageSchema,
  landingZoneStartedSchema,
  landingZoneStatusSchema,
  landingZoneUnchangedSchema,
  problemSchema,
  readySchema,
  resolvedConfigurationSchema,
  webhookAnswerSchema,
} from '../../shared/schemas/responses';
import { serviceNowWebhookSchema } from '../../shared/schemas/servicenow-webhook';
import { CONFIG_KEY } from '../../shared/store/entry-rules';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { payloadsSchema } from '../routes/codec';
import { queryParameters, toJsonSchema } from './json-schema';
import type { Header, HttpMethod, JsonSchema, OpenApiDocument, Operation, Parameter, PathItem, Response } from './types';

/** Named request schemas (what the routes validate with), as `components.schemas`. */
const REQUEST_SCHEMAS = {
  DeploymentRequest: deploymentRequestSchema,
  LandingZoneRequest: landingZoneRequestSchema,
  LandingZoneUpdate: landingZoneUpdateSchema,
  ConfigEntryBody: configEntryBodySchema,
  ServiceNowDecision: serviceNowWebhookSchema,
  CodecPayloads: payloadsSchema,
} satisfies Record<string, z.ZodType>;

/** This document, as `GET /openapi.json` answers it (described loosely: it describes itself). */
const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.looseObject({})),
});

/** Named response schemas, as `components.schemas`. */
const RESPONSE_SCHEMAS = {
  Problem: problemSchema,
  Health: healthSchema,
  Ready: readySchema,
  OpenApiDocument: openApiDocumentSchema,
  DeploymentStatus: deploymentStatusSchema,
  DeploymentStarted: deploymentStartedSchema,
  DeploymentCancelling: deploymentCancellingSchema,
  DeploymentPage: deploymentPageSchema,
  LandingZoneStatus: landingZoneStatusSchema,
  LandingZoneStarted: landingZoneStartedSchema,
  LandingZoneOperationStarted: landingZoneOperationStartedSchema,
  LandingZoneUnchanged: landingZoneUnchangedSchema,
  LandingZoneRunPage: landingZoneRunPageSchema,
  ResolvedConfiguration: resolvedConfigurationSchema,
  ConfigEntryWritten: configEntryWrittenSchema,
  WebhookAnswer: webhookAnswerSchema,
  CodecPayloadsAnswer: codecPayloadsAnswerSchema,
  AuditPage: auditPageSchema,
} satisfies Record<string, z.ZodType>;

type SchemaName = keyof typeof REQUEST_SCHEMAS | keyof typeof RESPONSE_SCHEMAS;

const ref = (name: SchemaName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const PROBLEM_JSON = 'application/problem+json';

/** What each error status means unless an operation says more. */
const PROBLEM_DEFAULTS: Record<number, string> = {
  400: 'Invalid request: a field, a query parameter or a header is wrong, or the body is not JSON. `errors` names each.',
  401: 'Not authenticated: the bearer token is missing or unknown, or is an OIDC ID token that does not verify (`detail` says why; `WWW-Authenticate: Bearer`).',
  403: 'Not allowed: the token may not do this. `detail` names what is needed.',
  404: 'Not found.',
  409: 'Conflict.',
  413: 'The body is larger than the limit this endpoint accepts.',
  415: 'The body is not `application/json`.',
  422: 'Unprocessable: the request is well formed but cannot be carried out.',
  429: 'Too many requests.',
  503: 'Service unavailable.',
};

/** A problem answer; the default 401 is the bearer check's, which says so in `WWW-Authenticate`. */
function problem(status: number, description?: string): Response {
  const text = description ?? PROBLEM_DEFAULTS[status];
  if (!text) throw new Error(`no description for a ${status} problem`);
  const bearerCheck = status === 401 && description === undefined;
  return {
    description: text,
    ...(bearerCheck ? { headers: { 'WWW-Authenticate': { description: '`Bearer`, or `Bearer error="invalid_token"` for an unknown token', schema: { type: 'string' } } } } : {}),
    content: { [PROBLEM_JSON]: { schema: ref('Problem') } },
  };
}

/** The problem answers of an operation: each status with its default description, or the one given. */
function problems(...entries: (number | [number, string])[]): Record<string, Response> {
  return Object.fromEntries(entries.map((entry) => (Array.isArray(entry) ? [String(entry[0]), problem(entry[0], entry[1])] : [String(entry), problem(entry)])));
}

function json(description: string, schema: SchemaName, headers?: Record<string, Header>): Response {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref(schema) } } };
}

const LOCATION: Record<string, Header> = { Location: { description: 'the URL of the resource the run works on (its status)', schema: { type: 'string' } } };

function body(schema: keyof typeof REQUEST_SCHEMAS, description?: string): Operation['requestBody'] {
  return { required: true, ...(description ? { description } : {}), content: { 'application/json': { schema: ref(schema) } } };
}

const pathParameter = (name: string, description: string, schema: JsonSchema = { type: 'string' }): Parameter => ({ name, in: 'path', required: true, description, schema });

const PAGING = {
  limit: 'At most this many items (1-100).',
  cursor: 'The `nextCursor` of the previous page.',
};

/** Everything under /v1 except the webhook needs a bearer token (the document's default). */
const PUBLIC: Pick<Operation, 'security'> = { security: [] };

const deploymentId = pathParameter('id', 'The deployment id, `deploy.<project>.<service>.<environment>.<16 hex of the image digest>`; one id per image, so a redeployment of the same image has several runs.');
const landingZoneProject = pathParameter('project', 'The project the landing zone is for (a DNS label).');
const configTenant = pathParameter('tenant', 'The tenant (a DNS label).', toJsonSchema(dnsLabel(30), 'input'));
const configProject = pathParameter('project', 'The project (a DNS label).', toJsonSchema(dnsLabel(30), 'input'));
const configKey = pathParameter('key', 'The entry\'s key, e.g. `LOG_LEVEL` or `db.password`.', toJsonSchema(z.string().regex(CONFIG_KEY), 'input'));
const environmentQuery: Parameter = {
  name: 'environment',
  in: 'query',
  required: false,
  description: 'An environment: its own entries (over the all-environments ones) for a read; the entry of that environment for a delete.',
  schema: toJsonSchema(configEnvironmentSchema, 'input'),
};

const codec = (action: 'encode' | 'decode'): PathItem => ({
  options: {
    operationId: `${action}PayloadsPreflight`,
    summary: 'CORS preflight for the Temporal UI',
    description: 'Answers the browser\'s preflight; the `Access-Control-Allow-*` headers are sent only to the Temporal UI\'s origin.',
    tags: ['codec'],
    ...PUBLIC,
    responses: {
      '204': {
        description: 'Preflight answered.',
        headers: {
          'Access-Control-Allow-Origin': { description: 'the Temporal UI\'s origin, when the request came from it', schema: { type: 'string' } },
          'Access-Control-Allow-Methods': { description: 'POST, OPTIONS', schema: { type: 'string' } },
          'Access-Control-Allow-Headers': { description: 'Authorization, Content-Type, X-Namespace', schema: { type: 'string' } },
        },
      },
    },
  },
  post: {
    operationId: `${action}Payloads`,
    summary: action === 'encode' ? 'Encrypt payloads (Temporal remote codec)' : 'Decrypt payloads (Temporal remote codec)',
    description:
      'Temporal\'s remote codec protocol, for the Temporal UI and `temporal workflow show --codec-endpoint`. Needs a `platform-admin` token; outside production, requests from this machine are let in without one.',
    tags: ['codec'],
    parameters: [{ name: 'X-Namespace', in: 'header', required: false, description: 'Must be the platform\'s Temporal namespace when sent.', schema: { type: 'string' } }],
    requestBody: body('CodecPayloads'),
    responses: {
      '200': json(action === 'encode' ? 'The encoded payloads, in order.' : 'The decoded payloads, in order.', 'CodecPayloadsAnswer'),
      ...problems([400, 'The body is not `{"payloads": [...]}`, a payload cannot be decoded, or `X-Namespace` names another namespace.'], 401, [403, 'The token is not a `platform-admin`\'s.'], 413),
    },
  },
});

const configEntry = (scope: 'global' | 'tenant' | 'project', path: Parameter[], roles: string): PathItem => {
  const name = scope.charAt(0).toUpperCase() + scope.slice(1);
  const notInTenant: (number | [number, string])[] = scope === 'project' ? [[404, 'The project is not in that tenant (its landing zone names another).']] : [];
  return {
    put: {
      operationId: `put${name}ConfigEntry`,
      summary: `Write a ${scope} configuration entry`,
      description: `Needs ${roles}. Either \`value\` or \`secretRef\` (a reference such as \`vault://kv/app/db#password\`): a \`value\` under a key that sounds like a secret, or one that holds a password URL or a private key, is refused with 400.`,
      tags: ['configuration'],
      parameters: path,
      requestBody: body('ConfigEntryBody'),
      responses: {
        '200': json('Updated.', 'ConfigEntryWritten'),
        '201': json('Created.', 'ConfigEntryWritten'),
        ...problems(400, 401, 403, ...notInTenant, 413, 415),
      },
    },
    delete: {
      operationId: `delete${name}ConfigEntry`,
      summary: `Delete a ${scope} configuration entry`,
      description: `Needs ${roles}. \`?environment=\` deletes that environment's entry; without it, the all-environments one.`,
      tags: ['configuration'],
      parameters: [...path, environmentQuery],
      responses: {
        '204': { description: 'Deleted.' },
        ...problems(400, 401, 403, [404, scope === 'project' ? 'No such entry, or the project is not in that tenant.' : 'No such entry.']),
      },
    },
  };
};


/** Health, this document and the Temporal codec: no /v1 token. */
function operationalPaths(): Record<string, PathItem> {
  return {
  '/healthz': {
    get: { operationId: 'getHealth', summary: 'The process is up', tags: ['health'], ...PUBLIC, responses: { '200': json('Up.', 'Health') } },
  },
  '/readyz': {
    get: {
      operationId: 'getReadiness',
      summary: 'Temporal is reachable',
      tags: ['health'],
      ...PUBLIC,
      responses: { '200': json('Ready.', 'Ready'), ...problems([503, 'Temporal is not reachable.']) },
    },
  },
  '/openapi.json': {
    get: { operationId: 'getOpenApiDocument', summary: 'This document', tags: ['documentation'], ...PUBLIC, responses: { '200': json('The OpenAPI 3.1 document.', 'OpenApiDocument') } },
  },
  '/docs': {
    get: {
      operationId: 'getApiReference',
      summary: 'The API reference, rendered',
      description: 'An HTML page (Swagger UI, served by the API itself) rendering `/openapi.json`.',
      tags: ['documentation'],
      ...PUBLIC,
      responses: { '200': { description: 'The reference page.', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
  '/codec/encode': codec('encode'),
  '/codec/decode': codec('decode'),

  };
}

/** ServiceNow's calls: HMAC-signed, no bearer token. */
function webhookPaths(): Record<string, PathItem> {
  return {
  '/v1/webhooks/servicenow': {
    post: {
      operationId: 'receiveServiceNowDecision',
      summary: 'An approver\'s decision on a change (ServiceNow)',
      description: [
        'Signed with HMAC-SHA256 instead of a bearer token: `' + SIGNATURE_HEADER + ': v1=<base64 HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with `' + TIMESTAMP_HEADER + ': <unix seconds>`.',
        'Timestamps more than 5 minutes off are refused; during a secret rotation the previous secret verifies too.',
        'A verified call is only a report: the run reads the change in ServiceNow and answers with its own verdict, which becomes the answer.',
      ].join(' '),
      tags: ['webhooks'],
      ...PUBLIC,
      parameters: [
        { name: TIMESTAMP_HEADER, in: 'header', required: true, description: 'Unix seconds when the call was signed.', schema: { type: 'string', pattern: '^[0-9]+$' } },
        { name: SIGNATURE_HEADER, in: 'header', required: true, description: '`v1=` and the base64 HMAC-SHA256 of `<timestamp>.<raw body>` under the shared secret.', schema: { type: 'string', pattern: '^v1=' } },
      ],
      requestBody: body('ServiceNowDecision', '`event_id` is unique per decision and the same on a redelivery.'),
      responses: {
        '200': json('A redelivery of a decision already applied: the same outcome (`duplicate`).', 'WebhookAnswer'),
        '202': json('Applied (ServiceNow confirms it; the run proceeds), or queued while no worker answers.', 'WebhookAnswer'),
        ...problems(
          [400, 'The signed body is not JSON or not a change decision.'],
          [401, 'The signature is missing, wrong or stale.'],
          [404, 'No platform run opened the change.'],
          [409, 'The run is not waiting for a decision, has ended, or decided differently.'],
          [413, 'The body is larger than 64 KiB.'],
          [422, 'The run refused the decision (ServiceNow does not record it, or it breaks the approver rules); `detail` says why.'],
        ),
      },
    },
  },

  };
}

/** Deployments: start, follow, list, cancel. */
function deploymentsPaths(): Record<string, PathItem> {
  return {
  '/v1/deployments': {
    get: {
      operationId: 'listDeployments',
      summary: 'List deployment runs, newest first',
      description: 'Only projects the token may deploy; a filter naming another project is refused (403). Unknown parameters are refused (400).',
      tags: ['deployments'],
      parameters: queryParameters(deploymentListQuerySchema, { ...PAGING, status: 'The platform\'s status of the run.', stage: 'The run\'s current stage.', changeNumber: 'The ServiceNow change the run opened.' }),
      responses: { '200': json('One page of runs.', 'DeploymentPage'), ...problems(400, 401, 403) },
    },
    post: {
      operationId: 'startDeployment',
      summary: 'Start a deployment',
      description: [
        'The image must be pinned by digest (`repo[:tag]@sha256:<64 hex>`). `port` defaults to the project\'s `service.port` configuration; `replicas` (default 2) may not exceed the environment\'s `maxReplicas`.',
        'Idempotent: the same `Idempotency-Key` (per token) returns the same run, and so does the same project/service/environment/image while a run is open.',
      ].join(' '),
      tags: ['deployments'],
      parameters: [
        { name: 'Idempotency-Key', in: 'header', required: false, description: '1 to 255 printable ASCII characters without spaces; a retry with the same key and body returns the same run.', schema: { type: 'string', minLength: 1, maxLength: 255 } },
      ],
      requestBody: body('DeploymentRequest'),
      responses: {
        '200': json('An existing run was returned (same key, or the same image while a run is open); `created: false`.', 'DeploymentStarted', {
          'Idempotent-Replayed': { description: '`true` when the Idempotency-Key was seen before', schema: { type: 'string', enum: ['true'] } },
          ...LOCATION,
        }),
        '202': json('Started.', 'DeploymentStarted', LOCATION),
        ...problems(
          [400, 'Invalid field(s), an unknown environment, too many replicas, a bad `Idempotency-Key`, or malformed JSON: `errors` names each.'],
          401,
          [403, 'The token may not deploy that project.'],
          [409, 'The Idempotency-Key was used for a different request (`deploymentId` names its run), or the landing zone is being decommissioned.'],
          413,
          415,
          [422, 'The project has no landing zone, or it has no such environment.'],
        ),
      },
    },
  },
  '/v1/deployments/{id}': {
    get: {
      operationId: 'getDeployment',
      summary: 'The status of a deployment\'s latest run',
      description: 'Also after the run has ended.',
      tags: ['deployments'],
      parameters: [deploymentId],
      responses: { '200': json('Its status view.', 'DeploymentStatus'), ...problems(401, [403, 'The token may not deploy that project.'], [404, 'No such deployment.']) },
    },
  },
  '/v1/deployments/{id}/runs': {
    get: {
      operationId: 'listDeploymentRuns',
      summary: 'Every run of one deployment id, newest first',
      tags: ['deployments'],
      parameters: [deploymentId, ...queryParameters(runListQuerySchema, PAGING)],
      responses: { '200': json('One page of runs.', 'DeploymentPage'), ...problems(400, 401, [403, 'The token may not deploy that project.'], [404, 'No such deployment.']) },
    },
  },
  '/v1/deployments/{id}/cancel': {
    post: {
      operationId: 'cancelDeployment',
      summary: 'Cancel a deployment',
      description: 'Compensation undoes what the run applied.',
      tags: ['deployments'],
      parameters: [deploymentId],
      responses: {
        '202': json('Cancellation requested.', 'DeploymentCancelling'),
        ...problems(401, [403, 'The token may not deploy that project.'], [404, 'No such deployment.'], [409, 'The run has already ended (`deploymentStatus` says how).']),
      },
    },
  },

  };
}

/** Landing zones: create, read, update, decommission, list. */
function landingZonesPaths(): Record<string, PathItem> {
  return {
  '/v1/landing-zones': {
    get: {
      operationId: 'listLandingZones',
      summary: 'List landing-zone creation runs, newest first',
      description: 'Only landing zones the token may read; `tenant` needs `platform-admin` or that tenant\'s `tenant-admin`.',
      tags: ['landing-zones'],
      parameters: queryParameters(landingZoneListQuerySchema, { ...PAGING, tenant: 'Only this tenant\'s landing zones.', status: 'The status of the creation run.' }),
      responses: { '200': json('One page of runs.', 'LandingZoneRunPage'), ...problems(400, 401, 403) },
    },
    post: {
      operationId: 'createLandingZone',
      summary: 'Create a project\'s landing zone',
      description:
        'Needs `platform-admin`. The class (`java`, `dotnet`, `node-web`, `python-backend`, `mobile-backend`) gives the defaults (port, probes, resources, quota); `quota` overrides them. Waits for an approved change when an environment asks for it.',
      tags: ['landing-zones'],
      requestBody: body('LandingZoneRequest'),
      responses: {
        '202': json('Started.', 'LandingZoneStarted', LOCATION),
        ...problems(
          [400, 'Invalid field(s), an unknown class or environment: `errors` names each.'],
          401,
          [403, 'Needs `platform-admin`.'],
          [409, 'The project has a landing zone (being created or created).'],
          413,
          415,
        ),
      },
    },
  },
  '/v1/landing-zones/{project}': {
    get: {
      operationId: 'getLandingZone',
      summary: 'A landing zone\'s status',
      description: 'Its current environments and resources, `state`, the latest update or decommission (`lastOperation`) and links.',
      tags: ['landing-zones'],
      parameters: [landingZoneProject],
      responses: { '200': json('Its status.', 'LandingZoneStatus'), ...problems(401, 403, [404, 'No landing zone for that project.']) },
    },
    patch: {
      operationId: 'updateLandingZone',
      summary: 'Update a landing zone (add environments, change the quota)',
      description: 'Needs `platform-admin` or the tenant\'s `tenant-admin`. Only the difference is applied; nothing is removed.',
      tags: ['landing-zones'],
      parameters: [landingZoneProject],
      requestBody: body('LandingZoneUpdate'),
      responses: {
        '200': json('It already looks like that; nothing was started (`changed: false`).', 'LandingZoneUnchanged'),
        '202': json('The update run started.', 'LandingZoneOperationStarted', LOCATION),
        ...problems(
          400,
          401,
          403,
          [404, 'No landing zone for that project.'],
          [409, 'An environment is there already, it is being created or decommissioned, or another operation is running.'],
          413,
          415,
        ),
      },
    },
    delete: {
      operationId: 'decommissionLandingZone',
      summary: 'Decommission a landing zone',
      description: 'Needs `platform-admin` or the tenant\'s `tenant-admin`. `force=true` also removes deployed services and an image repository that holds images.',
      tags: ['landing-zones'],
      parameters: [landingZoneProject, ...queryParameters(landingZoneDecommissionQuerySchema, { force: 'Remove deployed services too.', reason: 'Why, for the change request and the owners.' })],
      responses: {
        '202': json('The decommission run started.', 'LandingZoneOperationStarted', LOCATION),
        ...problems(400, 401, 403, [404, 'No landing zone for that project.'], [409, 'Deployment runs are in flight (`deployments` names them), it is still being created, or another operation is running.']),
      },
    },
  },
  '/v1/landing-zones/{project}/runs': {
    get: {
      operationId: 'listLandingZoneRuns',
      summary: 'A landing zone\'s creation, update and decommission runs, newest first',
      tags: ['landing-zones'],
      parameters: [landingZoneProject, ...queryParameters(runListQuerySchema, PAGING)],
      responses: { '200': json('One page of runs.', 'LandingZoneRunPage'), ...problems(400, 401, 403, [404, 'No landing zone for that project.']) },
    },
  },

  };
}

/** The configuration hierarchy. */
function configurationPaths(): Record<string, PathItem> {
  return {
  '/v1/config/{tenant}/{project}': {
    get: {
      operationId: 'getResolvedConfiguration',
      summary: 'A project\'s resolved configuration',
      description:
        'Each entry with the scope (and environment) it came from; secrets as references only. Project grants (owner, deploy token) count only in the tenant the project\'s landing zone names.',
      tags: ['configuration'],
      parameters: [configTenant, configProject, environmentQuery],
      responses: { '200': json('The resolved entries.', 'ResolvedConfiguration'), ...problems(400, 401, 403, [404, 'The project is not in that tenant.']) },
    },
  },
  '/v1/config/global/entries/{key}': configEntry('global', [configKey], '`platform-admin`'),
  '/v1/config/tenants/{tenant}/entries/{key}': configEntry('tenant', [configTenant, configKey], '`tenant-admin:<tenant>` or `platform-admin`'),
  '/v1/config/tenants/{tenant}/projects/{project}/entries/{key}': configEntry(
    'project',
    [configTenant, configProject, configKey],
    '`project-owner:<project>`, the tenant\'s `tenant-admin`, or `platform-admin`',
  ),
  };
}

/** The audit log. */
function auditPaths(): Record<string, PathItem> {
  return {
    '/v1/audit': {
      get: {
        operationId: 'listAuditEntries',
        summary: 'The audit log, newest first',
        description: [
          'Needs `platform-admin`. One entry per attempt of a state-changing action (deployment.start, deployment.cancel, landing-zone.create/update/delete, config.set/delete, approval.decision), refusals included:',
          'when, the request id, the actor (the token\'s subject, or `servicenow-webhook`), the target, the run, the outcome with the HTTP status, and the channel. Configuration values are never recorded, only keys.',
          'The log is append-only: the database refuses to change or delete an entry.',
        ].join(' '),
        tags: ['audit'],
        parameters: queryParameters(auditQuerySchema, {
          ...PAGING,
          actor: 'Only this actor (a token\'s subject, or `servicenow-webhook`).',
          action: 'Only this action.',
          project: 'Only entries about this project.',
          since: 'Only entries at or after this ISO 8601 time.',
          until: 'Only entries before this ISO 8601 time.',
        }),
        responses: { '200': json('One page of entries.', 'AuditPage'), ...problems([400, 'A bad filter or cursor: `errors` names it.'], 401, [403, 'Needs `platform-admin`.']) },
      },
    },
  };
}

/** Paths whose operations reach Temporal (the configuration and codec ones do not). */
const REACHES_TEMPORAL = /^\/v1\/(deployments|landing-zones|webhooks)/;

const TEMPORAL_UNREACHABLE: Response = {
  description: 'Temporal is not reachable right now; nothing was started or changed. Try again after `Retry-After` seconds.',
  headers: { 'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'string' } } },
  content: { [PROBLEM_JSON]: { schema: ref('Problem') } },
};

/** A bearer operation given an OIDC ID token whose issuer's signing keys cannot be fetched (api/oidc.ts). */
const OIDC_KEYS_NOTE = 'Also when the signing keys of the issuer of an OIDC ID token cannot be fetched right now.';
const OIDC_KEYS_UNREACHABLE: Response = {
  ...TEMPORAL_UNREACHABLE,
  description: `The signing keys of the issuer of an OIDC ID token cannot be fetched right now; nothing was done. Try again after \`Retry-After\` seconds.`,
};

/** Paths under a rate limit: every /v1 operation (per token; the webhook has its own). */
const RATE_LIMITED = /^\/v1\//;

const TOO_MANY_REQUESTS: Response = {
  description:
    'Too many requests: the token (for the webhook: ServiceNow) used up its limit in this API process; `detail` names the limit. Try again after `Retry-After` seconds.',
  headers: { 'Retry-After': { description: 'whole seconds until a request is allowed again', schema: { type: 'string', pattern: '^[0-9]+$' } } },
  content: { [PROBLEM_JSON]: { schema: ref('Problem') } },
};

const REQUEST_ID: Header = {
  description: 'The request\'s id, also in problem bodies (`requestId`), the API log and the audit log: the caller\'s own `X-Request-Id` when it is 1 to 128 of `A-Z a-z 0-9 . _ : -`, a new UUID otherwise.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
};

/**
 * Answers every operation of a kind can give, added where an operation does not already say: a
 * malformed %-escape in a path parameter (400), Temporal being unreachable (503) and a rate limit
 * (429); and the `X-Request-Id` header every answer carries.
 */
function withCommonAnswers(paths: Record<string, PathItem>): Record<string, PathItem> {
  for (const [path, item] of Object.entries(paths)) {
    for (const operation of Object.values(item) as Operation[]) {
      if (path.includes('{') && !operation.responses['400']) operation.responses['400'] = problem(400, 'A path parameter has a malformed percent-encoding (`%XX` escape).');
      if (REACHES_TEMPORAL.test(path) && !operation.responses['503']) operation.responses['503'] = TEMPORAL_UNREACHABLE;
      if (path.startsWith('/v1/') && operation.security === undefined) {
        const unavailable = operation.responses['503'];
        operation.responses['503'] = unavailable ? { ...unavailable, description: `${unavailable.description} ${OIDC_KEYS_NOTE}` } : OIDC_KEYS_UNREACHABLE;
      }
      if (RATE_LIMITED.test(path) && !operation.responses['429']) operation.responses['429'] = TOO_MANY_REQUESTS;
      for (const [status, response] of Object.entries(operation.responses)) {
        operation.responses[status] = { ...response, headers: { ...response.headers, 'X-Request-Id': REQUEST_ID } };
      }
    }
  }
  return paths;
}

export function openApiDocument(config: PlatformConfig): OpenApiDocument {
  const paths = withCommonAnswers({ ...operationalPaths(), ...webhookPaths(), ...deploymentsPaths(), ...landingZonesPaths(), ...configurationPaths(), ...auditPaths() });

  const schemas: Record<string, JsonSchema> = {
    ...Object.fromEntries(Object.entries(REQUEST_SCHEMAS).map(([name, schema]) => [name, toJsonSchema(schema, 'input')])),
    ...Object.fromEntries(Object.entries(RESPONSE_SCHEMAS).map(([name, schema]) => [name, toJsonSchema(schema, 'output')])),
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Deployment platform API',
      version: '1.0.0',
      description: [
        'CI pipelines start and follow deployments; platform and tenant admins manage landing zones and configuration; ServiceNow reports approvers\' decisions.',
        'Every `/v1` endpoint except the ServiceNow webhook needs `Authorization: Bearer <token>`, and a token may only act on its projects.',
        'Errors are RFC 9457 `application/problem+json` with an `errors` list naming each bad field and the request\'s `requestId`.',
        'Every answer carries `X-Request-Id`: send your own (1 to 128 of `A-Z a-z 0-9 . _ : -`) to find the request in the API log and the audit log.',
        'Each token may make a limited number of requests a minute per API process (`API_RATE_LIMIT_PER_MINUTE`, bursts of `API_RATE_LIMIT_BURST`); beyond it the answer is 429 with `Retry-After`.',
      ].join('\n\n'),
    },
    servers: [{ url: config.api.publicBaseUrl }],
    tags: [
      { name: 'deployments', description: 'Start, follow, list and cancel deployments.' },
      { name: 'landing-zones', description: 'Create, read, update and decommission a project\'s landing zone.' },
      { name: 'configuration', description: 'The configuration hierarchy: global, tenant and project entries.' },
      { name: 'webhooks', description: 'Calls from ServiceNow.' },
      { name: 'codec', description: 'Temporal\'s remote codec, for the Temporal UI and CLI.' },
      { name: 'health', description: 'Liveness and readiness.' },
      { name: 'documentation', description: 'This document and its rendered reference.' },
      { name: 'audit', description: 'Who did what: the append-only audit log.' },
    ],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A CI or admin token from `PLATFORM_CI_TOKENS`, one a landing zone issued, or a CI OIDC ID token (GitHub Actions, GitLab CI) of an issuer trusted in `PLATFORM_CI_IDENTITIES_FILE`.' },
      },
    },
  };
}

/** Every operation of the document, with its method and path template. */
export function operationsOf(document: OpenApiDocument): { method: HttpMethod; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method: method as HttpMethod, path, operation: operation as Operation })),
  );
}
