/** `GET /v1/audit`: its query parameters and its answer. */
import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_CHANNELS, AUDIT_OUTCOMES } from '../store/audit';
import { pageOf } from './responses';

const isoTime = z
  .string()
  .max(40)
  .refine((text) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) && !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 date or date-time, e.g. 2025-01-31T12:00:00Z');

export const auditQuerySchema = z.strictObject({
  actor: z.string().min(1).max(200).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  project: z.string().regex(/^[a-z][-a-z0-9]{0,62}$/, 'must be a DNS label (lower-case letters, digits, -)').optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(64).optional(),
});
export type AuditListQuery = z.infer<typeof auditQuerySchema>;

const text = z.string();

export const auditEntrySchema = z.strictObject({
  id: z.number().int().describe('grows with every entry'),
  at: text.describe('ISO 8601 date-time (UTC) the entry was written'),
  requestId: text.describe('the request\'s `X-Request-Id`'),
  actor: text.describe('the token\'s subject, or `servicenow-webhook`'),
  action: z.enum(AUDIT_ACTIONS),
  target: z
    .strictObject({
      tenant: text.optional(),
      project: text.optional(),
      service: text.optional(),
      environment: text.optional(),
      deploymentId: text.optional(),
      scope: text.describe('of a configuration entry: global, tenant or project').optional(),
      key: text.describe('a configuration entry\'s key; values are never recorded').optional(),
      changeNumber: text.optional(),
    })
    .describe('what the action was about'),
  workflowId: text.optional(),
  runId: text.optional(),
  outcome: z.enum(AUDIT_OUTCOMES).describe('accepted; duplicate (nothing new: an idempotent repeat, an open run returned, nothing to change); refused (4xx); failed (5xx)'),
  status: z.number().int().describe('the HTTP status the request was answered with'),
  channel: z.enum(AUDIT_CHANNELS).describe('`platformctl` when its User-Agent says so'),
});

export const auditPageSchema = pageOf(auditEntrySchema).describe('audit entries, newest first');
