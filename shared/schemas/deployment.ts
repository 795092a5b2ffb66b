/**
 * The body of `POST /v1/deployments`. Strict: an unknown field is an error naming it, so a typo in
 * a CI pipeline (`replica: 3`) is caught instead of silently ignored.
 */
import { z } from 'zod';
import type { DeployRequest, ImageRef } from '../domain';
import { reduceTrivyReport, trivyReportSchema } from './trivy';

/** Lowercase RFC 1123 label starting with a letter: valid as a namespace, service and path segment. */
export const dnsLabel = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label: a-z, 0-9 and -, starting with a letter');

const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_WITH_DIGEST = new RegExp(
  `^((?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?${component}(?:/${component})*)` +
    `(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@(sha256:[a-f0-9]{64})$`,
);

export function parseImageReference(reference: string): ImageRef | undefined {
  const match = IMAGE_WITH_DIGEST.exec(reference);
  if (!match) return undefined;
  const [, repository, tag, digest] = match;
  if (!repository || !digest) return undefined;
  return { reference, repository, digest, ...(tag ? { tag } : {}) };
}

const hostname = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/,
    'must be a fully qualified lowercase host name, e.g. payments.apps.example.com',
  );

export const deploymentRequestSchema = z.strictObject({
  project: dnsLabel(30),
  service: dnsLabel(40),
  environment: dnsLabel(20),
  image: z
    .string()
    .max(512)
    .refine((value) => parseImageReference(value) !== undefined, {
      message: 'must be an image reference pinned by digest, e.g. registry.example.com/team/app:1.2.3@sha256:<64 hex>',
    }),
  /** Defaults to the project's `service.port` configuration (set by its landing zone). */
  port: z.number().int().min(1).max(65_535).optional(),
  replicas: z.number().int().min(1).max(500).default(2),
  route: z.strictObject({
    host: hostname,
    path: z
      .string()
      .max(200)
      .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must be an absolute URL path such as / or /api')
      .refine((path) => !path.split('/').some((segment) => segment === '.' || segment === '..'), 'must not contain . or .. segments')
      // One spelling per route: `//api//v1` and `/api/v1` are the same prefix to the mesh.
      .transform((path) => path.replace(/\/{2,}/g, '/'))
      .default('/'),
  }),
  scanReport: trivyReportSchema.optional(),
  requestedBy: z.string().min(1).max(200).optional(),
});

export type DeploymentRequestBody = z.infer<typeof deploymentRequestSchema>;

/**
 * Turns a validated body into the workflow's request. The authenticated caller is the requester;
 * `requestedBy` is what the caller says (informational) and defaults to the caller.
 */
export function toDeployRequest(body: DeploymentRequestBody, caller: string, defaults: { port: number; healthPath?: string }): DeployRequest {
  const image = parseImageReference(body.image);
  if (!image) throw new Error('image was validated by the schema'); // unreachable after parsing
  return {
    project: body.project,
    service: body.service,
    environment: body.environment,
    image,
    port: body.port ?? defaults.port,
    replicas: body.replicas,
    route: { host: body.route.host, path: body.route.path },
    ...(defaults.healthPath ? { healthPath: defaults.healthPath } : {}),
    ...(body.scanReport ? { scanReport: reduceTrivyReport(body.scanReport) } : {}),
    requestedBy: body.requestedBy ?? caller,
    requester: caller,
  };
}
