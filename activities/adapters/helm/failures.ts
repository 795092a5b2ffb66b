import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';

/** Rendering is deterministic, so the same spec fails the same way on every retry. */
export function manifestInvalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ManifestInvalid, nonRetryable: true, message });
}
