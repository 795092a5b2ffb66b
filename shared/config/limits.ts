/**
 * Who may call how often: the API's per-token rate limits, read from the environment.
 *
 *   API_RATE_LIMIT_PER_MINUTE      requests a minute each authenticated principal (token subject)
 *                                  may make under /v1, sustained; 0 turns the limit off (default 600)
 *   API_RATE_LIMIT_BURST           how many it may make at once before the rate applies (default 100)
 *   WEBHOOK_RATE_LIMIT_PER_MINUTE  verified ServiceNow webhook calls a minute, all of them together;
 *                                  0 turns it off (default 300)
 *   WEBHOOK_RATE_LIMIT_BURST       (default 100)
 *
 * The buckets live in the API process: with several API processes each allows this much.
 */

export interface RateLimit {
  /** Tokens added per minute (the sustained rate). */
  perMinute: number;
  /** The bucket's size: requests allowed at once after a quiet spell. */
  burst: number;
}

export interface ApiLimits {
  /** Per authenticated principal under /v1; undefined when turned off. */
  perToken: RateLimit | undefined;
  /** The ServiceNow webhook's own bucket (signature-verified calls); undefined when turned off. */
  webhook: RateLimit | undefined;
}

export const DEFAULT_LIMITS = {
  perToken: { perMinute: 600, burst: 100 },
  webhook: { perMinute: 300, burst: 100 },
} as const satisfies Record<keyof ApiLimits, RateLimit>;

/** A whole number from 0 to `max`; `fallback` when the variable is unset or blank. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 32)}")`);
    return fallback;
  }
  return Number(raw);
}

const MAX_PER_MINUTE = 10_000_000;
const MAX_BURST = 1_000_000;

function rateLimit(env: NodeJS.ProcessEnv, prefix: string, defaults: RateLimit, problems: string[]): RateLimit | undefined {
  const perMinute = wholeNumber(env, `${prefix}_PER_MINUTE`, defaults.perMinute, 0, MAX_PER_MINUTE, problems);
  const burst = wholeNumber(env, `${prefix}_BURST`, defaults.burst, 1, MAX_BURST, problems);
  return perMinute === 0 ? undefined : { perMinute, burst };
}

/** The limits the environment asks for; each problem is appended to `problems`. */
export function parseLimits(env: NodeJS.ProcessEnv, problems: string[]): ApiLimits {
  return {
    perToken: rateLimit(env, 'API_RATE_LIMIT', DEFAULT_LIMITS.perToken, problems),
    webhook: rateLimit(env, 'WEBHOOK_RATE_LIMIT', DEFAULT_LIMITS.webhook, problems),
  };
}
