/**
 * A deploy lane (ADR 15): one per project/service/environment. It holds no cluster access; it
 * orders the deploy runs of one service in one environment by the rule in lane-state.ts and tells
 * each run (a local activity that signals it, ADR 19) when it may change the cluster, that it is
 * queued, or that it is superseded.
 */
import { laneLocalOp, laneOp } from '../shared/activity-options';
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeployLaneActivities } from '../../activities/deploy-lanes';
import {
  laneGrantedSignal,
  laneJoinSignal,
  laneLeaveSignal,
  laneQueuedSignal,
  laneRequestSignal,
  laneSupersededSignal,
  type DeployLaneInput,
} from '../../shared/contracts/deploy-lane';
import { LaneState, type LaneEffect } from './lane-state';

/**
 * Lanes started since this patch (ADR 19) tell their runs with a local activity instead of a
 * signal command, which cost the lane a workflow task more per message, and end a minute after
 * their last member left. Lanes started before it replay as recorded: they never noticed that
 * their last member had left while no run waited, and stayed open until the next run joined.
 */
const LEAN_LANE_PATCH = 'deploy-lane-lean-2026-11';

const lookup = proxyActivities<DeployLaneActivities>({
  ...laneOp,
  summary: 'check which lane members still run',
});

/** How long an empty lane stays open for a late joiner, and how often a queued run's holder is checked. */
const LINGER = '1 minute';
const HOLDER_CHECK = '1 minute';

const telling = proxyLocalActivities<DeployLaneActivities>({ ...laneLocalOp, summary: 'tell a run what its deploy lane decided' });

async function deliverLocally(effect: LaneEffect): Promise<void> {
  // `false`: the run has ended meanwhile; it leaves (or is pruned) by itself.
  if (!(await telling.tellLaneMember(effect))) log.info('a lane member had ended before it could be told', { run: effect.to.workflowId, effect: effect.kind });
}

async function deliverBySignal(effect: LaneEffect): Promise<void> {
  const run = getExternalWorkflowHandle(effect.to.workflowId, effect.to.runId);
  try {
    if (effect.kind === 'grant') await run.signal(laneGrantedSignal);
    else if (effect.kind === 'queued') await run.signal(laneQueuedSignal, { behind: effect.behind });
    else await run.signal(laneSupersededSignal, { by: effect.by });
  } catch (error) {
    // The run has ended meanwhile: it leaves (or is pruned) by itself.
    log.info('a lane member could not be signalled', { run: effect.to.workflowId, effect: effect.kind, error: String(error) });
  }
}

export async function deployLaneWorkflow(input: DeployLaneInput): Promise<void> {
  const state = new LaneState(input.carried);
  const outbox: LaneEffect[] = [];
  const lean = patched(LEAN_LANE_PATCH);
  const deliver = lean ? deliverLocally : deliverBySignal;
  setHandler(laneJoinSignal, (member) => void outbox.push(...state.join(member)));
  setHandler(laneRequestSignal, (run) => void outbox.push(...state.request(run)));
  setHandler(laneLeaveSignal, (run) => void outbox.push(...state.leave(run)));

  for (;;) {
    for (let effect = outbox.shift(); effect; effect = outbox.shift()) await deliver(effect);
    if (workflowInfo().continueAsNewSuggested) {
      const { carried: _previous, ...lane } = input;
      await continueAsNew<typeof deployLaneWorkflow>({ ...lane, carried: state.snapshot() });
    }
    if (state.isEmpty) {
      if (!(await condition(() => outbox.length > 0 || !state.isEmpty, LINGER))) return;
    } else if (state.waiting.length > 0) {
      // Someone waits for the holder: make sure it still runs (an operator may have terminated it).
      if (!(await condition(() => outbox.length > 0, HOLDER_CHECK))) {
        for (const run of await lookup.endedLaneMembers(state.all())) outbox.push(...state.leave(run));
      }
    } else {
      await condition(() => outbox.length > 0 || state.waiting.length > 0 || (lean && state.isEmpty) || workflowInfo().continueAsNewSuggested);
    }
  }
}
