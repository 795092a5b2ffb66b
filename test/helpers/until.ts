/**
 * The one polling wait of the test suite: asks `probe` every `everyMs` until it answers, and fails
 * naming what did not happen (with the test's context) once `timeoutMs` have passed.
 */

export interface UntilOptions {
  /** 60 s unless the test knows better. */
  timeoutMs?: number;
  /** 50 ms unless the probe is costly (a history fetch) or cheap (a file check). */
  everyMs?: number;
  /** What the failure prints beside its message (logs, the proxy's requests). */
  context?: () => string;
  /**
   * A probe that throws means "not yet" (the server may be down on purpose); the last error is
   * named if the wait times out. Otherwise a throw ends the wait at once.
   */
  errorsMeanNotYet?: boolean;
}

/** Resolves with the probe's first answer that is neither `undefined` nor `false`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, options: UntilOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, everyMs = 50, context, errorsMeanNotYet = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (!errorsMeanNotYet) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${context ? `\n${context()}` : ''}`);
}
