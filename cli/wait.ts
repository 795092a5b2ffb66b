/**
 * Following a run until it ends: read it every `interval`, hand each reading to the caller (which
 * prints what changed), and stop at a terminal status or when `timeout` has passed. A platform
 * that is briefly unreachable (a restart, a 502 from a proxy) does not end the wait: the loop
 * reports it and tries again at the next interval. Any other error (403, 404) ends it at once.
 */
import { ApiError, ConnectionError, ExitCode, type CliError } from './errors';
import type { RunView } from './types';

/** Statuses a run ends with, and what the CLI exits with for each. */
const ENDED: Record<string, typeof ExitCode.ok | typeof ExitCode.runFailed> = {
  succeeded: ExitCode.ok,
  failed: ExitCode.runFailed,
  rejected: ExitCode.runFailed,
  expired: ExitCode.runFailed,
  rolled_back: ExitCode.runFailed,
  cancelled: ExitCode.runFailed,
  // A newer request for the service replaced the run: this image was not deployed.
  superseded: ExitCode.runFailed,
  // What Temporal itself records when no worker answered for the run (see `detailsUnavailable`).
  completed: ExitCode.ok,
  canceled: ExitCode.runFailed,
  terminated: ExitCode.runFailed,
  timed_out: ExitCode.runFailed,
};

/** The exit code of a run that has ended with `status`, or undefined while it goes on. */
export function endedExitCode(status: string): typeof ExitCode.ok | typeof ExitCode.runFailed | undefined {
  return ENDED[status];
}

export interface WaitSettings {
  intervalMs: number;
  timeoutMs: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface Follow<View extends RunView> {
  /** Reads the run once. */
  read(): Promise<View>;
  /** Every successful reading, with the one before it (undefined the first time). */
  onReading(view: View, previous: View | undefined): void;
  /** A reading failed in a way worth retrying; the wait goes on. */
  onRetry(error: CliError): void;
}

export type WaitOutcome<View> = { kind: 'ended'; view: View; exitCode: typeof ExitCode.ok | typeof ExitCode.runFailed } | { kind: 'timeout'; view: View | undefined };

function transient(error: unknown): error is CliError {
  return error instanceof ConnectionError || (error instanceof ApiError && error.status >= 500);
}

export async function waitForRun<View extends RunView>(follow: Follow<View>, settings: WaitSettings, clock: Clock = realClock): Promise<WaitOutcome<View>> {
  const deadline = clock.now() + settings.timeoutMs;
  let previous: View | undefined;
  let lastError: CliError | undefined;
  for (;;) {
    try {
      const view = await follow.read();
      lastError = undefined;
      follow.onReading(view, previous);
      previous = view;
      const exitCode = endedExitCode(view.status);
      if (exitCode !== undefined) return { kind: 'ended', view, exitCode };
    } catch (error) {
      if (!transient(error)) throw error;
      lastError = error;
      follow.onRetry(error);
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      // Still unreachable at the end: that is the answer, not "still running".
      if (lastError) throw lastError;
      return { kind: 'timeout', view: previous };
    }
    await clock.sleep(Math.min(settings.intervalMs, remaining));
  }
}
