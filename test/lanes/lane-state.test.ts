/** The deploy lane's rule (ADR 15) as pure state transitions: who holds, who waits, who is superseded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LaneMember } from '../../shared/contracts/deploy-lane';
import { LaneState } from '../../workflows/deploy/lane-state';

const run = (name: string, startedAt: number): LaneMember => ({ workflowId: `deploy.p.s.dev.${name}`, runId: `run-${name}`, startedAt });
const ref = ({ workflowId, runId }: LaneMember) => ({ workflowId, runId });

describe('deploy lane rule', () => {
  it('when the lane is free, then the first request holds it at once', () => {
    const lane = new LaneState();
    const a = run('a', 1);
    assert.deepEqual(lane.join(a), []);
    assert.deepEqual(lane.request(ref(a)), [{ kind: 'grant', to: ref(a) }]);
    assert.equal(lane.holder?.runId, a.runId);
  });

  it('when a newer run joins, then older runs that do not hold the lane are superseded and the holder is not', () => {
    const lane = new LaneState();
    const [a, b, c] = [run('a', 1), run('b', 2), run('c', 3)];
    lane.join(a);
    lane.request(ref(a));
    lane.join(b);
    assert.deepEqual(lane.request(ref(b)), [{ kind: 'queued', to: ref(b), behind: ref(a) }]);
    assert.deepEqual(lane.join(c), [{ kind: 'supersede', to: ref(b), by: ref(c) }]);
    assert.deepEqual(lane.all().map((m) => m.runId).sort(), [a.runId, c.runId]);
    assert.deepEqual(lane.request(ref(b)), [], 'a superseded run gets nothing when it asks');
  });

  it('when the holder leaves, then the run waiting for its turn holds the lane', () => {
    const lane = new LaneState();
    const [a, b] = [run('a', 1), run('b', 2)];
    lane.join(a);
    lane.request(ref(a));
    lane.join(b);
    lane.request(ref(b));
    assert.deepEqual(lane.leave(ref(a)), [{ kind: 'grant', to: ref(b) }]);
    assert.equal(lane.holder?.runId, b.runId);
    assert.deepEqual(lane.leave(ref(b)), []);
    assert.ok(lane.isEmpty);
  });

  it('when a run joins later than a newer one (its join was slow), then it is superseded by the newer one at once', () => {
    const lane = new LaneState();
    const [older, newer] = [run('older', 1), run('newer', 2)];
    lane.join(newer);
    assert.deepEqual(lane.join(older), [{ kind: 'supersede', to: ref(older), by: ref(newer) }]);
    lane.request(ref(newer));
    lane.leave(ref(newer));
    assert.deepEqual(lane.join(older), [{ kind: 'supersede', to: ref(older), by: ref(newer) }], 'also after the newer one has left');
  });

  it('when messages repeat (retries), then nothing changes twice', () => {
    const lane = new LaneState();
    const [a, b] = [run('a', 1), run('b', 2)];
    lane.join(a);
    assert.deepEqual(lane.join(a), []);
    lane.request(ref(a));
    assert.deepEqual(lane.request(ref(a)), [{ kind: 'grant', to: ref(a) }], 'a repeated request is answered again');
    lane.join(b);
    lane.request(ref(b));
    assert.deepEqual(lane.leave(ref(a)), [{ kind: 'grant', to: ref(b) }]);
    assert.deepEqual(lane.leave(ref(a)), []);
  });

  it('when the state is carried over continue-as-new, then it goes on where it was', () => {
    const lane = new LaneState();
    const [a, b] = [run('a', 1), run('b', 2)];
    lane.join(a);
    lane.request(ref(a));
    lane.join(b);
    lane.request(ref(b));
    const carried = new LaneState(structuredClone(lane.snapshot()));
    assert.equal(carried.holder?.runId, a.runId);
    assert.deepEqual(carried.leave(ref(a)), [{ kind: 'grant', to: ref(b) }]);
    assert.deepEqual(carried.join(run('late', 0)), [{ kind: 'supersede', to: { workflowId: 'deploy.p.s.dev.late', runId: 'run-late' }, by: ref(b) }]);
  });

  it('when two runs start in the same millisecond, then the order is still total', () => {
    const lane = new LaneState();
    const [x, y] = [run('x', 5), run('y', 5)];
    lane.join(x);
    assert.deepEqual(lane.join(y), [{ kind: 'supersede', to: ref(x), by: ref(y) }]);
    assert.deepEqual(lane.join(x), [{ kind: 'supersede', to: ref(x), by: ref(y) }]);
  });
});
