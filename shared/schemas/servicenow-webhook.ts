import { z } from 'zod';

/** What the ServiceNow business rule (or the simulator) posts when a change is approved or rejected. */
export const serviceNowWebhookSchema = z.object({
  number: z.string().regex(/^[A-Z]{2,5}[0-9]{5,12}$/, 'must be a change number such as CHG0030001'),
  sys_id: z.string().regex(/^[a-f0-9]{32}$/, 'must be a 32-character hex sys_id').optional(),
  correlation_id: z.string().max(100).optional(),
  approval: z.enum(['approved', 'rejected']),
  approver: z.string().min(1).max(200),
  comment: z.string().max(4000).optional(),
  /** The approval group the approver decided for; informational (the run reads it from ServiceNow). */
  group: z.string().max(200).optional(),
  event_id: z.string().max(100).optional(),
});

export type ServiceNowWebhook = z.infer<typeof serviceNowWebhookSchema>;
