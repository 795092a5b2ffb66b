/** The platform's approver rules, judged on what ServiceNow records (no server needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeChange } from '../../activities/approval-rules';
import type { ApprovalRecord, ChangeRecord } from '../../shared/domain';

const change = (overrides: Partial<ChangeRecord> = {}): ChangeRecord => ({
  sysId: 'a'.repeat(32),
  number: 'CHG0030001',
  state: '-2',
  approval: 'approved',
  correlationId: 'run-1',
  ...overrides,
});
const approved = (approver: string, group = 'cab-prod'): ApprovalRecord => ({ approver, group, state: 'approved' });
const prod = { rules: { groups: ['cab-prod'], quorum: 2 }, requesters: ['ci-payments', 'bob.dev'] };
const anyone = { rules: { groups: [], quorum: 1 }, requesters: ['ci-payments'] };

describe('approver rules', () => {
  it('when the change still awaits approval, then it is pending whatever the records say', () => {
    const verdict = judgeChange(change({ approval: 'requested', state: '-5' }), [approved('alice'), approved('dave')], prod);
    assert.equal(verdict.kind, 'pending');
  });

  it('when two distinct cab-prod approvers approved, then it is approved with both', () => {
    assert.deepEqual(judgeChange(change(), [approved('alice'), approved('dave'), approved('Alice')], prod), { kind: 'approved', approvers: ['alice', 'dave'] });
  });

  it('when only one counts, then it is refused and says who did not count and why', () => {
    const verdict = judgeChange(change(), [approved('alice'), approved('Bob.Dev'), approved('carol', 'change-approvers'), { approver: 'erin', group: 'cab-prod', state: 'requested' }], prod);
    assert.equal(verdict.kind, 'refused');
    assert.match(verdict.kind === 'refused' ? verdict.detail : '', /needs 2 distinct approvers from cab-prod, none of them the requester: 1 so far \(alice\); not counted: Bob\.Dev is the requester; carol approved for group change-approvers, not cab-prod/);
  });

  it('when ServiceNow says approved but records no approver, then it is refused', () => {
    const verdict = judgeChange(change(), [], anyone);
    assert.equal(verdict.kind, 'refused');
  });

  it('when the requester is the only approver, then it is refused', () => {
    assert.equal(judgeChange(change(), [approved('ci-payments', 'x')], anyone).kind, 'refused');
  });

  it('when rejected, then it is rejected by whoever rejected it, whatever the rules', () => {
    const verdict = judgeChange(change({ approval: 'rejected', state: '4' }), [approved('alice'), { approver: 'ci-payments', group: 'x', state: 'rejected' }], prod);
    assert.deepEqual(verdict.kind === 'rejected' ? verdict.rejectedBy : [], ['ci-payments']);
  });

  it('when the change was cancelled in ServiceNow before a decision, then it counts as rejected', () => {
    const verdict = judgeChange(change({ approval: 'requested', state: '4' }), [], anyone);
    assert.equal(verdict.kind, 'rejected');
    assert.match(verdict.kind === 'rejected' ? verdict.detail : '', /cancelled in ServiceNow/);
  });
});
