/**
 * Kubernetes API errors translated at the adapter boundary: what retrying cannot fix becomes a
 * typed, non-retryable ApplicationFailure naming the object and the cause; the rest (5xx, 429,
 * timeouts, an unreachable server) stays a plain Error, so Temporal retries it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import { describeRef, type ObjectRef } from './objects';

interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: StatusCause[] };
}

/** `ApiException` from @kubernetes/client-node, recognised by shape (the class lives in an ESM module). */
export function apiStatusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

function statusBody(error: unknown): StatusBody {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as StatusBody;
}

/** True for "the resource is not there" (404) answers. */
export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404;
}

/** The client's discovery found no such kind: for our kinds, Istio's CRDs are not installed. */
export function isUnknownKind(error: unknown): boolean {
  return error instanceof Error && apiStatusCode(error) === undefined && /Unrecognized API version and kind/i.test(error.message);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

function networkCode(error: unknown): string | undefined {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errno = (cause as { errno?: unknown }).errno;
    if (typeof errno === 'string' && NETWORK_CODES.has(errno)) return errno;
  }
  const text = error instanceof Error ? error.message : '';
  return [...NETWORK_CODES].find((code) => text.includes(code));
}

export interface FailureContext {
  /** `apply`, `read`, `delete`, `list`: the verb the platform tried. */
  verb: string;
  ref?: ObjectRef;
  /** The kind listed when there is no single object. */
  what?: string;
  cluster: string;
  server: string;
}

function target(context: FailureContext): string {
  return context.ref ? describeRef(context.ref) : (context.what ?? 'objects');
}

/** One field conflict, as "field .spec.replicas is owned by \"kubectl-edit\"". */
function describeConflicts(body: StatusBody): string {
  const causes = (body.details?.causes ?? []).filter((cause) => cause.reason === 'FieldManagerConflict');
  if (causes.length === 0) return body.message ?? 'conflict';
  return causes
    .map((cause) => `field ${cause.field ?? '?'} ${(cause.message ?? '').replace(/^conflict with /, 'is owned by ')}`)
    .join('; ');
}

export function translateKubernetesError(error: unknown, context: FailureContext): Error {
  if (error instanceof ApplicationFailure) return error;
  const where = `cluster ${context.cluster} (${context.server})`;
  if (isUnknownKind(error)) {
    const kind = context.ref ? `${context.ref.apiVersion} ${context.ref.kind}` : (context.what ?? 'kind');
    return ApplicationFailure.create({
      type: ErrorType.ClusterApiMissing,
      nonRetryable: true,
      message: `${where} does not serve ${kind}${/istio\.io/.test(kind) ? ': Istio is not installed there (its CRDs are missing)' : ': its CRD is not installed'}`,
    });
  }
  const code = apiStatusCode(error);
  if (code === undefined) {
    const network = networkCode(error);
    const detail = error instanceof Error ? error.message : String(error);
    return new Error(network ? `the Kubernetes API of ${where} is unreachable (${network}); retrying` : `${context.verb} ${target(context)} on ${where} failed: ${detail}`);
  }
  const body = statusBody(error);
  const message = body.message ?? (error instanceof Error ? error.message : String(error));
  switch (code) {
    case 401:
    case 403:
      return ApplicationFailure.create({
        type: ErrorType.ClusterAccessDenied,
        nonRetryable: true,
        message: `${where} refused to let the platform ${context.verb} ${target(context)} (${code}): ${message}. Grant the worker's identity the permissions in deploy/kubernetes/rbac.yaml.`,
      });
    case 404:
      if (context.ref?.namespace && /namespaces? "[^"]+" not found/.test(message)) {
        return ApplicationFailure.create({
          type: ErrorType.ClusterTargetRejected,
          nonRetryable: true,
          message: `namespace ${context.ref.namespace} does not exist on ${where}: create the project's landing zone for this environment first`,
        });
      }
      return ApplicationFailure.create({ type: ErrorType.ClusterTargetRejected, nonRetryable: true, message: `${context.verb} ${target(context)} on ${where}: not found (${message})` });
    case 409:
      return ApplicationFailure.create({
        type: ErrorType.ClusterApplyConflict,
        nonRetryable: true,
        message: `${context.verb} ${target(context)} on ${where} conflicts with another field manager: ${describeConflicts(body)}. The platform applies as "deploy-platform" and does not force; hand the fields back or remove the other manager's claim.`,
      });
    case 400:
    case 422:
      return ApplicationFailure.create({ type: ErrorType.ManifestInvalid, nonRetryable: true, message: `${where} rejected ${target(context)} (${code}): ${message}` });
    default:
      // 429, 5xx, 408 and anything unknown: the API server may answer next time.
      return new Error(`${context.verb} ${target(context)} on ${where} answered ${code}: ${message}; retrying`);
  }
}
