/** The body of `POST /v1/landing-zones`. Strict: unknown fields are errors naming them. */
import { z } from 'zod';
import { dnsLabel } from './deployment';
import { quotaSchema } from './quota';

const quotaOverrides = quotaSchema.partial();

const environmentList = z
  .array(dnsLabel(20))
  .min(1, 'at least one environment')
  .max(10)
  .refine((list) => new Set(list).size === list.length, 'environments must not repeat');

export const landingZoneRequestSchema = z.strictObject({
  project: dnsLabel(30),
  tenant: dnsLabel(30),
  class: z.string().min(1).max(40),
  owners: z.strictObject({
    emails: z.array(z.email()).min(1, 'at least one owner').max(20),
    group: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]*$/, 'must be a group name as the cluster\'s identity provider spells it'),
  }),
  environments: environmentList,
  quota: quotaOverrides.optional(),
});

export type LandingZoneRequestBody = z.infer<typeof landingZoneRequestSchema>;

/** The body of `PATCH /v1/landing-zones/{project}`: what to add or change; nothing is removed. */
export const landingZoneUpdateSchema = z
  .strictObject({
    addEnvironments: environmentList.optional(),
    quota: quotaOverrides.optional(),
  })
  .refine((body) => body.addEnvironments !== undefined || body.quota !== undefined, {
    message: 'give addEnvironments, quota or both',
    path: ['addEnvironments'],
  });

export type LandingZoneUpdateBody = z.infer<typeof landingZoneUpdateSchema>;

/** The query of `DELETE /v1/landing-zones/{project}`. */
export const landingZoneDecommissionQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).optional(),
  reason: z.string().min(1).max(200).optional(),
});
