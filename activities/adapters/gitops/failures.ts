/** The failures this adapter raises that retrying cannot fix, typed so workflows and the API can react. */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';

export function configurationInvalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message });
}

export function targetRejected(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ClusterTargetRejected, nonRetryable: true, message });
}

export function rollbackConflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.RollbackConflict, nonRetryable: true, message });
}
