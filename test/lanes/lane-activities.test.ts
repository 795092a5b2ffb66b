/**
 * The join-and-request local activity of a run that waits for nothing (ADR 21), against a port that
 * records its calls: it starts the lane holding it when none runs; otherwise it joins and asks; a
 * retry after a start that succeeded (the worker died before the result was recorded) joins and
 * asks again, which the lane answers with a grant; a lane ended between the join and the request
 * fails the attempt so that its retry starts over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDeployLaneActivities } from '../../activities/deploy-lanes';
import type { DeployLanes } from '../../activities/ports/deploy-lanes';

const member = { workflowId: 'deploy.payments.ledger.dev.1', runId: 'run-1', startedAt: 1_700_000_000_000 };
const input = { laneId: 'lane.deploy.payments.ledger.dev.q', taskQueue: 'q', lane: { project: 'payments', service: 'ledger', environment: 'dev' }, member };

/** A lane port whose answers the test sets, recording each call by name. */
function fakeLanes(answers: { running: boolean; requestDelivered?: boolean }): { lanes: DeployLanes; calls: string[] } {
  const calls: string[] = [];
  const lanes: DeployLanes = {
    startHolding: async () => (calls.push('startHolding'), !answers.running),
    join: async () => void calls.push('join'),
    request: async () => (calls.push('request'), answers.requestDelivered ?? true),
    leave: async () => (calls.push('leave'), true),
    tell: async () => (calls.push('tell'), true),
    ended: async () => (calls.push('ended'), []),
  };
  return { lanes, calls };
}

describe('joining a deploy lane and asking for the turn at once', () => {
  it('when no lane runs, then the run starts it holding it, and neither joins nor asks', async () => {
    const { lanes, calls } = fakeLanes({ running: false });
    assert.equal(await createDeployLaneActivities(lanes).joinDeployLaneAndRequestTurn(input), 'holding');
    assert.deepEqual(calls, ['startHolding']);
  });

  it('when a lane runs (another run of the service, or this run\'s own lane after a start whose result was lost), then it joins and asks, and the lane answers by signal', async () => {
    const { lanes, calls } = fakeLanes({ running: true });
    assert.equal(await createDeployLaneActivities(lanes).joinDeployLaneAndRequestTurn(input), 'asked');
    assert.deepEqual(calls, ['startHolding', 'join', 'request']);
  });

  it('when the lane ended between the join and the request (an operator terminated it), then the attempt fails, so that its retry starts over', async () => {
    const { lanes } = fakeLanes({ running: true, requestDelivered: false });
    await assert.rejects(createDeployLaneActivities(lanes).joinDeployLaneAndRequestTurn(input), /ended between the join and the request/);
  });
});
