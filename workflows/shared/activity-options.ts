import { ActivityCancellationType, proxyActivities, type ActivityInterfaceFor, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/*
 * Timeouts are chosen for a loaded worker (see the README's "Failure model"): a run must never
 * fail because the platform itself is busy or was restarted. Activities that may wait behind other
 * runs (the GitOps repository lock, a full activity slot pool) heartbeat while they wait, so the
 * heartbeat timeout notices a dead worker in seconds, and their start-to-close timeout is long
 * enough that waiting in a queue never uses up an attempt. Attempts are spent on outside failures.
 */

/**
 * Pure computation on the worker (scan judgement, rendering): quick, but on a worker running its
 * full pool of activities a render can wait for CPU, hence two minutes.
 */
export const fastStep: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * Rendering a release: CPU work that may wait for CPU on a full worker (two minutes), heartbeating
 * so that a worker killed mid-render is noticed in seconds, not at the timeout.
 */
export const renderOp: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * Getting and judging an image's findings: instant for a CI report, minutes for a registry scan
 * (ECR). The activity heartbeats every second, so a dead worker is noticed in 10 s.
 */
export const scanOp: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
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
  // Heartbeats every second, also while waiting for the GitOps lock behind hundreds of other runs.
  startToCloseTimeout: '30m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
};

/**
 * Checking that what was applied is what runs. A rollout that does not become healthy is reported
 * by the target within the policy's rollout timeout as a non-retryable failure; attempts are for
 * the target being unreachable or the worker dying. Heartbeats while waiting for the lock too.
 */
export const verifyOp: ActivityOptions = {
  startToCloseTimeout: '30m',
  // Sent every second (also while waiting for the lock): 10 s notices a dead worker promptly.
  heartbeatTimeout: '10s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
};

/**
 * Deploy lane calls (ADR 15): one Temporal request each (a signal-with-start, a few describes).
 * Retried without limit (Temporal being busy is waited out); a short timeout so that a call lost
 * with a killed worker is retried within seconds.
 */
export const laneOp: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * The lane calls deploy runs and lanes make as local activities (ADR 19): each is a single
 * Temporal request that never waits for another workflow, so it runs inside the caller's workflow
 * task. Retried without limit, as `laneOp`: Temporal being busy is waited out.
 */
export const laneLocalOp: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
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
