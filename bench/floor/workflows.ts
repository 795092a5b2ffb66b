/**
 * The floor: what Temporal alone costs for a run with as many activities as a platform run. The
 * activities do nothing; no payload codec, no search attributes, no queries, no lanes. A platform
 * run that takes k times the floor spends (k - 1) floors in its own code and its outside systems.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

/** Lets a parked floor run go on (the floor's "approval"). */
export const goSignal = defineSignal('go');
/** Whether the run waits for `goSignal` now. */
export const parkedQuery = defineQuery<boolean>('parked');

export interface FloorInput {
  /** How many no-op activities to run, one after another. */
  activities: number;
  /** Waits for `goSignal` before the activity with this index (a parked run); never when absent. */
  parkBefore?: number;
}

export interface FloorResult {
  /** When the first activity after the wait started (epoch ms), for a parked run. */
  resumedAt?: number;
}

// 10 s: the platform's side effects notice a dead worker by a 10 s heartbeat timeout; a no-op needs no heartbeat.
const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s', retry: { initialInterval: '1s' } });

export async function floorWorkflow(input: FloorInput): Promise<FloorResult> {
  let released = false;
  let parked = false;
  setHandler(goSignal, () => {
    released = true;
  });
  setHandler(parkedQuery, () => parked);
  let resumedAt: number | undefined;
  for (let step = 0; step < input.activities; step++) {
    const parkedHere = input.parkBefore === step;
    if (parkedHere) {
      parked = true;
      await condition(() => released);
      parked = false;
    }
    const startedAt = await noop(step);
    if (parkedHere) resumedAt = startedAt;
  }
  return resumedAt === undefined ? {} : { resumedAt };
}
