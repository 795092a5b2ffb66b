import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs. The port calls behind our activities do not report progress, yet
 * a worker that dies mid-call must be noticed within the heartbeat timeout (seconds), not the
 * start-to-close timeout (minutes), so the retry on another worker starts promptly.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, everyMs = 1_000, details?: () => unknown): Promise<T> {
  const context = Context.current();
  context.heartbeat(details?.());
  const timer = setInterval(() => context.heartbeat(details?.()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Heartbeats with progress details when called inside an activity, and does nothing elsewhere:
 * adapters report progress through a callback and are also used outside activities (tests, tools).
 */
export function heartbeatIfInActivity(details: unknown): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}
