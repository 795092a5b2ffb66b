/**
 * What the worker prints of the SDK's own log lines ("Workflow failed", "Activity task failed").
 * Their `error` carries the failure's message, and some messages name people (a rejection quotes
 * the approver and their comment): those are withheld from the log. The run's status, read
 * through the API or the codec, still has them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../shared/errors';

/** Failure types whose message quotes approvers or their comments. */
const PERSONAL_FAILURE_TYPES: readonly string[] = [ErrorType.ApprovalRejected];

function personalFailure(error: unknown): ApplicationFailure | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth += 1) {
    if (cause instanceof ApplicationFailure && cause.type && PERSONAL_FAILURE_TYPES.includes(cause.type)) return cause;
  }
  return undefined;
}

export function loggableSdkFields(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta) return meta;
  const failure = personalFailure(meta.error);
  if (!failure) return meta;
  return { ...meta, error: `${failure.type}: message withheld (it names people); read it from the run's status` };
}
