/**
 * The ChangeManagement port's contract, written once so every implementation runs the same
 * checks. `setup` provides a fresh port and a way to count changes per correlation id.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ChangeManagement, OpenChangeRequest } from '../../activities/ports/change-management';

export interface ContractSubject {
  port: ChangeManagement;
  /** How many changes the system holds for a correlation id, read behind the port's back. */
  countByCorrelationId(correlationId: string): Promise<number>;
  teardown(): Promise<void>;
}

export function changeManagementContract(name: string, setup: () => Promise<ContractSubject>): void {
  describe(`ChangeManagement contract: ${name}`, () => {
    let subject: ContractSubject;
    before(async () => {
      subject = await setup();
    });
    after(async () => {
      await subject?.teardown();
    });

    const request = (overrides: Partial<OpenChangeRequest> = {}): OpenChangeRequest => ({
      correlationId: `deploy.payments.ledger.staging.${randomUUID()}`,
      shortDescription: 'Deploy payments/ledger to staging',
      description: 'Image registry.example.com/payments/ledger@sha256:…',
      type: 'normal',
      requestedBy: 'ci-payments',
      ...overrides,
    });

    it('when a normal change is opened, then it awaits approval in state New with a number and a link', async () => {
      const opened = await subject.port.open(request());
      assert.match(opened.number, /^CHG[0-9]{7}$/);
      assert.match(opened.sysId, /^[0-9a-f]{32}$/);
      assert.equal(opened.approval, 'requested');
      assert.equal(opened.state, '-5');
      assert.ok(opened.url?.includes(opened.sysId));
    });

    it('when a standard change is opened, then it is pre-approved and scheduled', async () => {
      const opened = await subject.port.open(request({ type: 'standard' }));
      assert.equal(opened.approval, 'approved');
      assert.equal(opened.state, '-2');
    });

    it('when opened twice with the same correlation id, then the same change comes back and only one exists', async () => {
      const req = request();
      const first = await subject.port.open(req);
      const second = await subject.port.open(req);
      assert.deepEqual(second, first);
      assert.equal(first.correlationId, req.correlationId);
      assert.equal(await subject.countByCorrelationId(req.correlationId), 1);
    });

    it('when opened with different correlation ids, then the changes differ', async () => {
      const a = await subject.port.open(request());
      const b = await subject.port.open(request());
      assert.notEqual(a.sysId, b.sysId);
      assert.notEqual(a.number, b.number);
    });

    it('when a change is read by sys_id, then it matches what open returned', async () => {
      const opened = await subject.port.open(request());
      assert.deepEqual(await subject.port.get(opened.sysId), opened);
    });

    for (const [outcome, state] of [['successful', '3'], ['unsuccessful', '3'], ['cancelled', '4']] as const) {
      it(`when closed ${outcome} twice, then it ends in state ${state} both times`, async () => {
        const opened = await subject.port.open(request({ type: 'standard' }));
        const first = await subject.port.close({ sysId: opened.sysId, outcome, notes: `closed ${outcome}` });
        assert.equal(first.state, state);
        const again = await subject.port.close({ sysId: opened.sysId, outcome, notes: `closed ${outcome}` });
        assert.deepEqual(again, first);
        assert.deepEqual(await subject.port.get(opened.sysId), first);
      });
    }
  });
}
