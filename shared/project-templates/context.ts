/**
 * What a skeleton is rendered with: the landing zone's facts about the new project. Values end up
 * unquoted in shell, YAML and Groovy, so each is held to a shape that cannot break out of them.
 */
import { z } from 'zod';

const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label: a-z, 0-9 and -, starting with a letter');

/** Host names such as `shop.retail.apps.example.com` (no scheme, no port, no path). */
const hostName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase host name');

/** `registry[:port]/path/name` without tag or digest: the pipelines add `:<commit>` and resolve the digest. */
const imageRepository = z
  .string()
  .max(255)
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/,
    'must be an image repository such as registry.example.com/tenant/project (no tag or digest)',
  );

/** An http(s) base URL without a trailing slash and without characters a shell would interpret. */
const baseUrl = z
  .url({ protocol: /^https?$/ })
  .regex(/^[A-Za-z0-9:/._~%-]+$/, 'must be a plain http(s) URL (letters, digits and :/._~%- only)')
  .refine((url) => !url.endsWith('/'), 'must not end with /');

export const skeletonContextSchema = z
  .strictObject({
    project: dnsLabel,
    tenant: dnsLabel,
    /** The first service of the project; most projects start with one named like the project. */
    service: dnsLabel.optional(),
    owners: z.strictObject({
      emails: z.array(z.email()).min(1, 'at least one owner'),
      group: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]*$/, 'must be a group name (letters, digits and ._@:-)'),
    }),
    /** In promotion order: the pipelines deploy to the first automatically, to the others after a manual step. */
    environments: z
      .array(dnsLabel)
      .min(1, 'at least one environment')
      .refine((list) => new Set(list).size === list.length, 'environments must not repeat'),
    platformApiUrl: baseUrl,
    imageRepository,
    routeHost: hostName,
    temporalUiUrl: baseUrl.optional(),
  })
  .transform(({ service, ...rest }) => ({ ...rest, service: service ?? rest.project }));

/** What callers pass (`service` optional). */
export type SkeletonContextInput = z.input<typeof skeletonContextSchema>;
/** What templates see (`service` filled in). */
export type SkeletonContext = z.output<typeof skeletonContextSchema>;

/** Context variables a skeleton may use; `temporalUiUrl` only inside `{{#if temporalUiUrl}}`. */
export const CONTEXT_VARIABLES = [
  'project',
  'tenant',
  'service',
  'owners',
  'environments',
  'platformApiUrl',
  'imageRepository',
  'routeHost',
  'temporalUiUrl',
] as const satisfies readonly (keyof SkeletonContext)[];
