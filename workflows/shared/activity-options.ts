import { ActivityCancellationType, proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Pure computation on the worker (scan judgement, rendering): quick, few retries. */
export const fastStep: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * Getting and judging an image's findings: instant for a CI report, minutes for a registry scan
 * (ECR), whose adapter heartbeats before every poll (at most 15 s apart, plus one request).
 */
export const scanOp: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** Calls to the change-management system: an outage is waited out, a refusal is final. */
export const changeOp: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
};

/**
 * Writes to outside systems (cluster target, registry, repositories, stores). The heartbeat
 * timeout notices a dead worker in seconds. WAIT_CANCELLATION_COMPLETED: when the run is cancelled
 * mid-write, compensation must not start until the write has really stopped, or it could undo
 * nothing and then watch the write land.
 */
export const sideEffect: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
};

export const verifyOp: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes },
};

/**
 * Activity proxies whose calls each carry their own summary in the Temporal UI (opening a change
 * reads differently from closing it): `summaries` by activity name, `fallback` for the others.
 */
export function summarisedActivities<A extends object>(options: ActivityOptions, summaries: Partial<Record<keyof A & string, string>>, fallback: string): ActivityInterfaceFor<A> {
  const proxies = new Map<string, ActivityInterfaceFor<A>>();
  const proxyFor = (name: string): ActivityInterfaceFor<A> => {
    const existing = proxies.get(name);
    if (existing) return existing;
    const created = proxyActivities<A>({ ...options, summary: summaries[name as keyof A & string] ?? fallback });
    proxies.set(name, created);
    return created;
  };
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get: (_target, name) => (typeof name === 'string' ? proxyFor(name)[name as keyof ActivityInterfaceFor<A>] : undefined),
  });
}
