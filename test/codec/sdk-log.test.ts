/** The worker's SDK log lines never print a failure message that names an approver. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { ErrorType } from '../../shared/errors';
import { loggableSdkFields } from '../../workers/sdk-log';

describe('SDK log lines', () => {
  it('when a run fails as rejected, then the message naming the approver and comment is withheld', () => {
    const failure = ApplicationFailure.create({ type: ErrorType.ApprovalRejected, nonRetryable: true, message: 'change CHG1 was rejected by Zelda Approver: not today' });
    const fields = loggableSdkFields({ workflowId: 'deploy.x', error: failure });
    assert.equal(fields?.workflowId, 'deploy.x');
    assert.doesNotMatch(JSON.stringify(fields), /Zelda|not today/);
    assert.match(String(fields?.error), /ApprovalRejected: message withheld/);
  });

  it('when the rejection is wrapped (an activity failure), then it is still withheld', () => {
    const inner = ApplicationFailure.create({ type: ErrorType.ApprovalRejected, message: 'rejected by Zelda' });
    const wrapped = new ActivityFailure('activity failed', 'closeChange', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', inner);
    assert.doesNotMatch(JSON.stringify(loggableSdkFields({ error: wrapped })), /Zelda/);
  });

  it('when another failure is logged, then its message stays for the operator', () => {
    const failure = ApplicationFailure.create({ type: ErrorType.ClusterApplyConflict, message: 'field .spec.replicas is owned by hpa-tuner' });
    assert.equal(loggableSdkFields({ error: failure })?.error, failure);
    assert.equal(loggableSdkFields(undefined), undefined);
  });
});
