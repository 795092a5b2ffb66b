/** The quota shape, written once: per-namespace ResourceQuota values of a landing zone. */
import { z } from 'zod';

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** A Kubernetes quantity such as 500m, 2 or 4Gi, as text. */
export const quantitySchema = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 500m, 2 or 4Gi');

/** The quota's fields, with the quantity parser of the source (JSON bodies take text; YAML may give numbers). */
export function quotaSchemaOf<Q extends z.ZodType<string, unknown>>(quantity: Q) {
  return z.strictObject({
    requestsCpu: quantity,
    requestsMemory: quantity,
    limitsCpu: quantity,
    limitsMemory: quantity,
    pods: z.number().int().min(1).max(10_000),
  });
}

export const quotaSchema = quotaSchemaOf(quantitySchema);
export type Quota = z.infer<typeof quotaSchema>;
export const QUOTA_FIELDS = quotaSchema.keyof().options;
