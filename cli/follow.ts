/**
 * `--wait` for any run: the waiting loop (wait.ts) wired to the output. People get one line per
 * change and a last line saying how it ended; --json gets every reading that differs from the one
 * before, as the API sent it. Returns the exit code.
 */
import { ExitCode } from './errors';
import { endedLines, formatMs, progressLine, type Output } from './output';
import { progressEvents } from './progress';
import type { RunView } from './types';
import { waitForRun, type Clock, type WaitSettings } from './wait';

export interface Reading<View extends RunView> {
  /** The API's answer, printed as it is with --json. */
  raw: unknown;
  /** The run being followed within it (the answer itself, or a part such as `lastOperation`). */
  view: View;
}

export interface FollowRequest<View extends RunView> {
  /** How the run is named in the last line, e.g. `deployment deploy.payments.ledger.dev.0123456789abcdef`. */
  label: string;
  read(): Promise<Reading<View>>;
  /** How to pick the wait up again after a timeout. */
  resumeHint: string;
}

export async function followRun<View extends RunView>(out: Output, clock: Clock, settings: WaitSettings, request: FollowRequest<View>): Promise<number> {
  let raw: unknown;
  let lastJson: string | undefined;
  let lastWarning: string | undefined;
  const outcome = await waitForRun<View>(
    {
      read: async () => {
        const reading = await request.read();
        raw = reading.raw;
        return reading.view;
      },
      // Called right after each successful read, with its view.
      onReading: (view, previous) => {
        lastWarning = undefined;
        const json = JSON.stringify(raw);
        if (json !== lastJson) out.data(raw);
        lastJson = json;
        for (const event of progressEvents(previous, view, new Date(clock.now()))) out.line(progressLine(event));
      },
      onRetry: (error) => {
        if (error.message !== lastWarning) out.warn(`${error.message} (still waiting; trying again every ${formatMs(settings.intervalMs)})`);
        lastWarning = error.message;
      },
    },
    settings,
    clock,
  );
  if (outcome.kind === 'timeout') {
    const state = outcome.view ? ` is still ${outcome.view.status}${outcome.view.stage ? ` (stage ${outcome.view.stage})` : ''}` : ' has not been read yet';
    out.warn(`gave up waiting after ${formatMs(settings.timeoutMs)}: ${request.label}${state}; it goes on. ${request.resumeHint}`);
    return ExitCode.timeout;
  }
  out.lines(endedLines(request.label, outcome.view));
  return outcome.exitCode;
}
