/**
 * The failure converter of every platform client and worker, activities and workflows alike.
 *
 * Temporal's default converter writes a failure's `message` and `stack_trace` into history in plain
 * text, outside any payload, so the payload codec never sees them; yet they carry what a run was
 * told (an approver's name and comment, a ServiceNow error quoting a change). With
 * `encodeCommonAttributes` both move into the failure's `encoded_attributes` payload, which the
 * codec encrypts like any other; the message left in the clear is the fixed "Encoded failure".
 * Failure types (`ApprovalRejected`, ...) stay readable, as search attributes do.
 *
 * The SDK loads this module by path (`DataConverter.failureConverterPath`): with `require` in the
 * client and the worker's activity side, and through webpack inside the workflow bundle. It is
 * therefore workflow code: deterministic, nothing but `@temporalio/common`, no Node built-ins.
 */
import { DefaultFailureConverter, type FailureConverter } from '@temporalio/common';

export const failureConverter: FailureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
