/**
 * The body of `PUT /v1/config/.../entries/{key}` and the `environment` the config routes take
 * (in that body, and as `?environment=` on reads and deletes). The shape only: what may be stored
 * under a key is `contentProblems`' call (shared/store), made with the path's key.
 */
import { z } from 'zod';
import { dnsLabel } from './deployment';

/** An environment's name, as entries are scoped to it. */
export const configEnvironmentSchema = dnsLabel(20);

export const configEntryBodySchema = z
  .strictObject({
    value: z.string().optional(),
    secretRef: z.string().optional(),
    environment: configEnvironmentSchema.optional(),
  })
  .refine((body) => (body.value === undefined) !== (body.secretRef === undefined), {
    message: 'give exactly one of value or secretRef',
    path: ['value'],
  });

export type ConfigEntryBody = z.infer<typeof configEntryBodySchema>;
