/**
 * How ServiceNow failures look to Temporal. A 4xx (other than 408/429) means ServiceNow refused
 * this request as sent, so retrying it cannot help; everything else may pass on a later attempt.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';

export function changeRequestRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ChangeRequestRefused, nonRetryable: true, message });
}

export function configurationInvalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message });
}

/** A plain Error: Temporal retries it under the activity's retry policy. */
export class ServiceNowUnavailableError extends Error {
  override readonly name = 'ServiceNowUnavailableError';
}

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
