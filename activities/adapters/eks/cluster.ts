/**
 * Where an EKS cluster's API server is and which CA signs its certificate, from DescribeCluster.
 * AWS errors are translated here, at the boundary: what retrying cannot fix (no such cluster, no
 * permission, a bad name) becomes a non-retryable ApplicationFailure; throttling, 5xx and network
 * trouble stay plain Errors so Temporal retries them under the activity's retry policy.
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';

export interface EksClusterRef {
  clusterName: string;
  region: string;
  /** Another EKS API endpoint (moto, a VPC endpoint). */
  endpoint?: string;
  /** Defaults to the SDK's default chain. */
  credentials?: AwsCredentialIdentityProvider;
}

export interface EksClusterEndpoint {
  /** The API server URL, e.g. https://ABC.gr7.eu-west-1.eks.amazonaws.com */
  server: string;
  /** Base64 of the PEM CA bundle, exactly as EKS returns it (kubeconfig certificate-authority-data). */
  caData: string;
}

/** Configuration that wins over DescribeCluster, field by field (tests, private endpoints). */
export interface EksEndpointOverride {
  server?: string;
  caData?: string;
}

function configurationInvalid(message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.ConfigurationInvalid,
    nonRetryable: true,
    message,
    cause: cause instanceof Error ? cause : undefined,
  });
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const NOT_FOUND = new Set(['ResourceNotFoundException', 'NotFoundException']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch']);
const BAD_REQUEST = new Set(['InvalidParameterException', 'InvalidRequestException', 'BadRequestException', 'ClientException', 'ValidationException']);
/** Expired session credentials are refreshed by the provider chain, so a later attempt can pass. */
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);

/** Exported for tests: maps an error thrown by the EKS client to what Temporal should see. */
export function translateDescribeClusterError(error: unknown, ref: Pick<EksClusterRef, 'clusterName' | 'region'>): Error {
  const where = `EKS cluster "${ref.clusterName}" in region ${ref.region}`;
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const detail = `${name || 'Error'}: ${e.message ?? String(error)}`;

  if (NOT_FOUND.has(name)) {
    return configurationInvalid(`${where} does not exist (DescribeCluster: ${detail}); check the cluster name, region and account`, error);
  }
  if (EXPIRED_CREDENTIALS.has(name)) {
    return new Error(`DescribeCluster for ${where} failed with expired credentials (${detail}); retrying with refreshed credentials`, { cause: error });
  }
  if (DENIED.has(name) || status === 403 || status === 401) {
    return configurationInvalid(`the worker's AWS identity may not call eks:DescribeCluster on ${where} (${detail}); grant eks:DescribeCluster on that cluster`, error);
  }
  if (BAD_REQUEST.has(name)) {
    return configurationInvalid(`DescribeCluster refused the request for ${where} (${detail})`, error);
  }
  // Throttling, 5xx, timeouts, connection errors, missing credentials from a flaky metadata
  // service: a later attempt may succeed, so Temporal retries them.
  return new Error(`DescribeCluster for ${where} failed (${detail})`, { cause: error });
}

/** The cluster's endpoint and CA from DescribeCluster. */
export async function describeEksCluster(ref: EksClusterRef): Promise<EksClusterEndpoint> {
  const { clusterName, region } = ref;
  if (!clusterName) throw configurationInvalid('an EKS cluster name is required');
  if (!region) throw configurationInvalid(`a region is required for EKS cluster "${clusterName}"`);
  const client = new EKSClient({
    region,
    ...(ref.endpoint ? { endpoint: ref.endpoint } : {}),
    ...(ref.credentials ? { credentials: ref.credentials } : {}),
  });
  try {
    const output = await client.send(new DescribeClusterCommand({ name: clusterName })).catch((error: unknown) => {
      throw translateDescribeClusterError(error, ref);
    });
    const cluster = output.cluster;
    const where = `EKS cluster "${clusterName}" in region ${region}`;
    const server = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (server && caData) return { server, caData };
    // A cluster being created has neither yet; waiting for it is what a retry does.
    const status = cluster?.status ?? 'UNKNOWN';
    if (status === 'CREATING' || status === 'UPDATING' || status === 'PENDING') {
      throw new Error(`${where} is ${status} and has no endpoint or CA yet`);
    }
    throw configurationInvalid(`${where} (status ${status}) has no ${server ? 'certificate authority' : 'endpoint'}`);
  } finally {
    client.destroy();
  }
}

function checkOverride(override: EksEndpointOverride, clusterName: string): void {
  if (override.server !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(override.server);
    } catch {
      url = undefined;
    }
    // The bearer token is a replayable credential for 15 minutes: never send it in clear text.
    if (!url || url.protocol !== 'https:') {
      throw configurationInvalid(`the configured API server for EKS cluster "${clusterName}" must be an https:// URL, got ${JSON.stringify(override.server)}`);
    }
  }
  if (override.caData !== undefined) {
    const pem = Buffer.from(override.caData, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw configurationInvalid(`the configured caData for EKS cluster "${clusterName}" is not base64 of a PEM certificate bundle`);
    }
  }
}

/**
 * The endpoint to connect to: the configured override where given (both fields given means AWS
 * is not asked at all), DescribeCluster for the rest.
 */
export async function resolveEksEndpoint(ref: EksClusterRef & { override?: EksEndpointOverride }): Promise<EksClusterEndpoint> {
  const override = ref.override ?? {};
  checkOverride(override, ref.clusterName);
  if (override.server !== undefined && override.caData !== undefined) {
    return { server: override.server, caData: override.caData };
  }
  const described = await describeEksCluster(ref);
  return { server: override.server ?? described.server, caData: override.caData ?? described.caData };
}
