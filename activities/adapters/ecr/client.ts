/**
 * The Amazon ECR client the ECR adapters share, and how ECR failures look to Temporal. Vendor
 * errors are translated here, at the boundary, so nothing above the adapters sees an SDK type:
 * what retrying cannot fix becomes a non-retryable ApplicationFailure, everything else a plain
 * Error that Temporal retries under the activity's retry policy.
 */
import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';

export interface EcrClientOptions {
  region: string;
  /** An explicit endpoint: a VPC/private endpoint, or a local emulator (moto) in tests. */
  endpoint?: string;
  /** Omitted: the SDK's default chain (environment, web identity, IMDS...). Never logged. */
  credentials?: ECRClientConfig['credentials'];
  /** SDK attempts per call before the failure reaches the adapter (and Temporal's own retries). */
  maxAttempts?: number;
  /**
   * SDK default: 'standard'. 'adaptive' also rate-limits the whole client after a throttling
   * error, and the SDK counts LimitExceededException as one, which StartImageScan raises routinely
   * for an image already scanned today; so it would slow every later call of the worker.
   */
  retryMode?: 'standard' | 'adaptive';
  /** Per HTTP request, so a hung connection becomes a retryable failure instead of a stuck activity. */
  requestTimeoutMs?: number;
}

export function createEcrClient({ region, endpoint, credentials, maxAttempts, retryMode, requestTimeoutMs = 30_000 }: EcrClientOptions): ECRClient {
  return new ECRClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(retryMode ? { retryMode } : {}),
    requestHandler: { connectionTimeout: 5_000, requestTimeout: requestTimeoutMs },
  });
}

/** The ECR call that failed: the IAM action (without `ecr:`) and what it was about, for messages. */
export interface EcrCall {
  action: string;
  /** e.g. `repository acme/payments`, `image acme/payments@sha256:…`. */
  subject: string;
}

/** A plain Error: Temporal retries it (its type is not among the non-retryable ErrorTypes). */
export class EcrUnavailableError extends Error {
  override readonly name = 'EcrUnavailableError';
}

/** The shape of an SDK service error, read structurally so tests can build one without the SDK. */
interface VendorError {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The vendor error name (e.g. `RepositoryNotFoundException`), if `error` is an AWS service error. */
export function ecrErrorName(error: unknown): string | undefined {
  const name = (error as VendorError | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as VendorError | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  const message = (error as VendorError | null)?.message;
  return typeof message === 'string' && message ? message : String(error);
}

/** AWS JSON protocol throttling comes back as HTTP 400 with one of these names. */
const THROTTLING = new Set(['ThrottlingException', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown']);
const NOT_FOUND = new Set(['RepositoryNotFoundException', 'ImageNotFoundException', 'ScanNotFoundException', 'LifecyclePolicyNotFoundException']);
const NOT_ALLOWED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'InvalidClientTokenId', 'MissingAuthenticationTokenException', 'UnauthorizedOperation']);

export function configurationInvalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message });
}

/**
 * Maps a failed ECR call to what Temporal should do with it. The HTTP status decides first (5xx,
 * 408 and 429 are transient whatever their name), then the vendor name. An error without a status
 * never reached ECR or never got an answer (DNS, refused connection, timeout): retryable.
 */
export function translateEcrError(error: unknown, call: EcrCall): Error {
  if (error instanceof ApplicationFailure) return error;
  const name = ecrErrorName(error) ?? 'Error';
  const status = httpStatusOf(error);
  const vendor = `${name}: ${messageOf(error)}`;
  const where = `ecr:${call.action} on ${call.subject}`;

  if (status === undefined || status >= 500 || status === 408 || status === 429 || THROTTLING.has(name)) {
    return new EcrUnavailableError(`ECR is unavailable or throttling (${where}): ${vendor}`, { cause: error });
  }
  // Expired session credentials are refreshed by the SDK's provider; the next attempt can pass.
  if (name === 'ExpiredTokenException' || name === 'RequestExpired') {
    return new EcrUnavailableError(`ECR refused expired credentials (${where}); retrying with refreshed ones: ${vendor}`, { cause: error });
  }
  if (NOT_ALLOWED.has(name) || status === 401 || status === 403) {
    return configurationInvalid(`the platform's AWS identity may not call ecr:${call.action} on ${call.subject} (grant that IAM action): ${vendor}`);
  }
  if (NOT_FOUND.has(name)) {
    return configurationInvalid(`${call.subject} does not exist in ECR (ecr:${call.action}): ${vendor}`);
  }
  // Any other 4xx: ECR refused the request as sent (invalid parameter, KMS, limits); retrying cannot help.
  return configurationInvalid(`ECR refused ${where}: ${vendor}`);
}
