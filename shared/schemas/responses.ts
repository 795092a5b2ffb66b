/**
 * What the API answers, as zod schemas: the OpenAPI document (api/openapi) describes every
 * response with these, and the test suite checks every response the tests receive against them.
 *
 * Small answers the API builds itself are strict (a new field must be documented here). The status
 * views that come from a workflow's query are large and grow with the workflows, so they are loose:
 * the fields clients rely on are typed, the rest is allowed.
 */
import { z } from 'zod';
import { RUN_STATUSES } from '../contracts/run';

const text = z.string();
/** ISO 8601 date-time, as the API writes it (`new Date().toISOString()`). */
const timestamp = z.string().describe('ISO 8601 date-time');

export const runStatusSchema = z.enum(RUN_STATUSES).describe('the run\'s status');

/** A list item's status: the platform's own, else what Temporal records (lower-cased) for runs that never wrote one. */
export const listedRunStatusSchema = z.enum([...RUN_STATUSES, 'terminated', 'continued', 'timed_out', 'unknown']);

/** RFC 9457 problem details: every error the API answers. Extension members (e.g. `deploymentId`) may follow. */
export const problemSchema = z
  .looseObject({
    type: text.describe('always about:blank: `title` and `status` say what happened'),
    title: text,
    status: z.number().int().min(400).max(599),
    detail: text.describe('what went wrong, for a person'),
    instance: text.describe('the request path').optional(),
    requestId: text.describe('the request\'s id, as in its `X-Request-Id` header and the API log').optional(),
    errors: z
      .array(z.strictObject({ field: text.describe('dotted path of the field, a header name, or (body)'), message: text }))
      .describe('one item per bad field')
      .optional(),
  })
  .describe('RFC 9457 problem details (application/problem+json)');

export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const readySchema = z.strictObject({ status: z.literal('ready'), temporal: text.describe('the Temporal frontend address') });

// ---- run views (deployments and landing zones) ----

const stepSchema = z.looseObject({
  name: text.describe('a stage name, or undo:<stage> for a compensating step'),
  status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
  startedAt: timestamp,
  endedAt: timestamp.optional(),
  detail: text.optional(),
});

const decisionChannel = z.enum(['signal', 'update', 'poll', 'webhook']);

const approvalSchema = z.looseObject({
  required: z.boolean(),
  deadline: timestamp.optional(),
  decision: z.enum(['approved', 'rejected', 'expired']).optional(),
  approver: text.optional(),
  approvers: z.array(text).optional(),
  comment: text.optional(),
  decidedAt: timestamp.optional(),
  via: decisionChannel.optional(),
  deliveryId: text.optional(),
  expiredBecause: text.optional(),
  refused: z
    .array(z.looseObject({ at: timestamp, via: decisionChannel, claimed: z.enum(['approved', 'rejected']), approver: text, deliveryId: text.optional(), reason: text }))
    .optional(),
  window: z.looseObject({ start: text.optional(), end: text.optional() }).optional(),
});

const changeSchema = z.looseObject({
  number: text.describe('the ServiceNow change number, e.g. CHG0030001'),
  sysId: text,
  url: text.optional(),
  outcome: z.enum(['successful', 'unsuccessful', 'cancelled']).optional(),
});

/**
 * What every run's status view has. Optional here because a run whose worker does not answer the
 * status query in time is shown from what Temporal records (`detailsUnavailable` says so).
 */
const runViewFields = {
  status: runStatusSchema,
  stage: text.describe('the current stage; compensate while undoing, done once the run has ended').optional(),
  startedAt: timestamp.optional(),
  endedAt: timestamp.optional(),
  steps: z.array(stepSchema).optional(),
  approval: approvalSchema.optional(),
  change: changeSchema.optional(),
  error: z.looseObject({ type: text.describe('e.g. ScanPolicyViolation, ApprovalRejected'), message: text }).optional(),
  compensationErrors: z.array(z.looseObject({ step: text, message: text })).describe('failures of compensating steps, which need a human').optional(),
  detailsUnavailable: text.describe('present when no worker answered the status query: the view is what Temporal records').optional(),
};

const scanSummarySchema = z.looseObject({
  scanner: text,
  scanned: z.boolean(),
  passed: z.boolean(),
  counts: z.record(text, z.number()),
  blockedSeverities: z.array(text),
  blockingFindings: z.number(),
});

const deploymentLinksSchema = z.strictObject({ self: text, cancel: text, temporalUi: text });

/** `GET /v1/deployments/{id}`: the latest run's status view. */
export const deploymentStatusSchema = z
  .looseObject({
    deploymentId: text,
    workflowId: text,
    runId: text,
    ...runViewFields,
    project: text.optional(),
    service: text.optional(),
    environment: text.optional(),
    image: text.optional(),
    requestedBy: text.optional(),
    scan: scanSummarySchema.optional(),
    rescan: scanSummarySchema.optional(),
    release: z.looseObject({ chart: text, contentHash: text, namespace: text, pinnedImage: text }).optional(),
    revisions: z.looseObject({ deploy: text.optional(), mesh: text.optional() }).optional(),
    queuedBehind: z.looseObject({ deploymentId: text, runId: text }).describe('while queued: the run of the same service and environment this one waits for').optional(),
    supersededBy: z.looseObject({ deploymentId: text, runId: text }).describe('when superseded: the newer run that replaced this one').optional(),
    links: deploymentLinksSchema,
  })
  .describe('a deployment run\'s status view');

/** `POST /v1/deployments`: the run started (202) or the existing one returned (200). */
export const deploymentStartedSchema = deploymentStatusSchema
  .extend({
    created: z.boolean().describe('false when an existing run was returned'),
    note: text.describe('present when an open run of the same image has different parameters').optional(),
  })
  .describe('the run that was started, or the existing run that was returned');

/** `POST /v1/deployments/{id}/cancel`. */
export const deploymentCancellingSchema = z.strictObject({
  deploymentId: text,
  runId: text,
  status: z.literal('cancelling'),
  links: deploymentLinksSchema,
});

// ---- lists ----

const listLinksSchema = z.strictObject({ self: text, temporalUi: text });

const listedRunFields = {
  runId: text,
  status: listedRunStatusSchema,
  stage: text.optional(),
  changeNumber: text.optional(),
  startedAt: timestamp.optional(),
  closedAt: timestamp.optional(),
  links: listLinksSchema,
};

export const deploymentListItemSchema = z.strictObject({
  deploymentId: text,
  project: text.optional(),
  service: text.optional(),
  environment: text.optional(),
  ...listedRunFields,
});

export const landingZoneRunItemSchema = z.strictObject({
  project: text.optional(),
  operation: z.enum(['create', 'update', 'decommission']),
  workflowId: text,
  ...listedRunFields,
});

/** One page of a list, newest first; `nextCursor` (absent on the last page) asks for the next one. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: text.describe('pass as `cursor` for the next page').optional() });

export const deploymentPageSchema = pageOf(deploymentListItemSchema);
export const landingZoneRunPageSchema = pageOf(landingZoneRunItemSchema);

// ---- landing zones ----

const landingZoneResourcesSchema = z.looseObject({
  namespaces: z.array(z.looseObject({ environment: text, namespace: text, revision: text.optional() })).optional(),
  imageRepository: z.looseObject({ name: text, uri: text }).optional(),
  sourceRepository: z.looseObject({ name: text, cloneUrl: text, head: text }).optional(),
  configurationKeys: z.array(text).optional(),
  ciTokenSecretRef: text.describe('where the project\'s CI token is kept; never the token').optional(),
  notification: z.looseObject({ messageId: text }).optional(),
});

const landingZoneOperationSummarySchema = z.looseObject({
  runId: text,
  status: text,
  operation: z.enum(['update', 'decommission']).optional(),
  operationId: text.optional(),
  stage: text.optional(),
  steps: z.array(stepSchema).optional(),
  approval: approvalSchema.optional(),
  change: changeSchema.optional(),
  error: z.looseObject({ type: text, message: text }).optional(),
  summary: z.array(text).optional(),
});

/** `GET /v1/landing-zones/{project}`. */
export const landingZoneStatusSchema = z
  .looseObject({
    ...runViewFields,
    project: text,
    landingZoneId: text.optional(),
    tenant: text.optional(),
    projectClass: text.optional(),
    environments: z.array(text).optional(),
    requestedBy: text.optional(),
    resources: landingZoneResourcesSchema.optional(),
    registered: z.boolean().describe('whether the platform holds a record of it (deployments are checked against it)'),
    state: z.enum(['active', 'decommissioning', 'decommissioned', 'not-registered']),
    lastOperation: landingZoneOperationSummarySchema.describe('the latest update or decommission run').optional(),
    links: listLinksSchema,
  })
  .describe('a landing zone: its creation run\'s view, the current record, and its latest operation');

/** `POST /v1/landing-zones`: 202. */
export const landingZoneStartedSchema = z.strictObject({
  project: text,
  landingZoneId: text,
  runId: text,
  status: z.literal('running'),
  approvalRequired: z.boolean(),
  links: listLinksSchema,
});

/** `PATCH` (update) and `DELETE` (decommission) of a landing zone: 202. */
export const landingZoneOperationStartedSchema = z.strictObject({
  project: text,
  operation: z.enum(['update', 'decommission']),
  operationId: text,
  runId: text,
  status: z.literal('running'),
  force: z.boolean().optional(),
  approvalRequired: z.boolean(),
  changes: z.array(text).describe('one line per change an update makes').optional(),
  links: listLinksSchema,
});

/** `PATCH` when the landing zone already looks like the request: 200, nothing started. */
export const landingZoneUnchangedSchema = z.strictObject({ project: text, changed: z.literal(false), message: text });

// ---- configuration ----

export const configEntrySchema = z.strictObject({
  key: text,
  value: text.optional(),
  secretRef: text.describe('a reference to the secret (e.g. vault://kv/app/db#password); never its value').optional(),
  secret: z.boolean(),
  scope: z.enum(['global', 'tenant', 'project']),
  environment: text.nullable().describe('null: the entry applies to every environment'),
  updatedBy: text,
  updatedAt: timestamp,
});

/** `PUT .../entries/{key}`: the entry as stored, with the tenant and project of its path. */
export const configEntryWrittenSchema = configEntrySchema.extend({ tenant: text.optional(), project: text.optional() });

/** `GET /v1/config/{tenant}/{project}`. */
export const resolvedConfigurationSchema = z.strictObject({
  tenant: text,
  project: text,
  environment: text.nullable(),
  entries: z.array(configEntrySchema).describe('the winning entry of each key: project over tenant over global, an environment\'s own over the all-environments one'),
});

// ---- ServiceNow webhook ----

export const webhookAnswerSchema = z.strictObject({
  deploymentId: text.describe('the workflow id of the run that owns the change'),
  runId: text,
  changeNumber: text,
  eventId: text.optional(),
  outcome: z.enum(['applied', 'duplicate', 'queued']),
  decision: z.enum(['approved', 'rejected']).optional(),
  runStatus: runStatusSchema.describe('the ended run\'s status, on a redelivery after the run ended').optional(),
  detail: text.optional(),
});

// ---- codec ----

export const codecPayloadsAnswerSchema = z.strictObject({
  payloads: z.array(z.strictObject({ metadata: z.record(text, text.describe('base64')), data: text.describe('base64') })),
});
