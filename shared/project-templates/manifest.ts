/**
 * `templates/<class>/template.yaml`: what a project class is and the defaults it gives a landing zone
 * (the port and probes the deploy pipeline uses, container resources, namespace quota). Strict: an
 * unknown key is an error, so a typo cannot silently drop a default.
 */
import { z } from 'zod';
import { CONTEXT_VARIABLES } from './context';
import { quantitySchema, quotaSchemaOf } from '../schemas/quota';
import { DERIVED_VARIABLES } from './derived';

// Quantities are strings downstream (Kubernetes manifests, quota overrides); YAML may give `cpu: 1`.
const quantity = z.union([z.string(), z.number()]).transform(String).pipe(quantitySchema);

const httpPath = z.string().regex(/^\/[A-Za-z0-9/._-]*$/, 'must be an absolute HTTP path such as /healthz');

/** A path inside the skeleton, as rendered (`.github/workflows/deploy.yml`). */
const skeletonPath = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/') && !path.split('/').includes('..') && !path.endsWith('.hbs'), 'must be a relative path inside the skeleton, without .hbs');

const unique = <T>(list: readonly T[]): boolean => new Set(list).size === list.length;

export const TEMPLATE_VARIABLES = [...CONTEXT_VARIABLES, ...DERIVED_VARIABLES] as const;

export const templateManifestSchema = z.strictObject({
  apiVersion: z.literal('platform.example.com/v1'),
  kind: z.literal('ProjectTemplate'),
  name: z.string().regex(/^[a-z][-a-z0-9]*$/, 'must be the class name (the folder name)'),
  title: z.string().min(1),
  description: z.string().min(1),
  language: z.string().min(1),
  defaults: z.strictObject({
    port: z.number().int().min(1024, 'must be an unprivileged port (the image runs as non-root)').max(65_535),
    probes: z.strictObject({ readinessPath: httpPath, livenessPath: httpPath }),
    resources: z.strictObject({
      requests: z.strictObject({ cpu: quantity, memory: quantity }),
      limits: z.strictObject({ cpu: quantity, memory: quantity }),
    }),
    quota: quotaSchemaOf(quantity),
  }),
  /** Pipeline files the skeleton must contain (checked when the template loads). */
  pipelines: z.array(skeletonPath).min(1).refine(unique, 'must not repeat'),
  /** Every variable the skeleton uses, and no other (checked when the template loads). */
  parameters: z.array(z.enum(TEMPLATE_VARIABLES)).refine(unique, 'must not repeat'),
});

export type TemplateManifest = z.output<typeof templateManifestSchema>;
export type TemplateDefaults = TemplateManifest['defaults'];
