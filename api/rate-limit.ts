/**
 * Per-principal rate limits: a token bucket per key (the authenticated principal's subject, or
 * `servicenow-webhook` for the signed webhook) holding at most `burst` tokens, refilled at
 * `perMinute` a minute; each request takes one, and a request finding less than one is answered
 * 429 with `Retry-After` (whole seconds until a token is there).
 *
 * The buckets live in this process: with several API processes each allows the configured rate.
 * The map stays bounded: a bucket that has refilled completely is the same as no bucket and is
 * dropped by a periodic sweep, and past `maxBuckets` the least recently used one goes.
 */
import type { RequestHandler, Response } from 'express';
import type { RateLimit } from '../shared/config/limits';
import { principalOf } from './auth';
import { HttpError } from './errors';

export class TooManyRequestsError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterSec: number,
  ) {
    super(429, 'Too many requests', message);
  }
}

export type TakeResult = { allowed: true; remaining: number } | { allowed: false; retryAfterSec: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export interface TokenBucketsOptions extends RateLimit {
  /** Milliseconds since some epoch; Date.now by default (tests inject a clock). */
  now?: () => number;
  /** At most this many buckets are kept (default 10 000). */
  maxBuckets?: number;
  /** How often full buckets are swept out (ms; default a minute). */
  sweepIntervalMs?: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly now: () => number;
  private readonly maxBuckets: number;
  private readonly sweepIntervalMs: number;
  private lastSweep: number;

  constructor(readonly limit: TokenBucketsOptions) {
    if (!(limit.perMinute > 0) || !(limit.burst >= 1)) throw new RangeError('a rate limit needs perMinute > 0 and burst >= 1');
    this.perMs = limit.perMinute / 60_000;
    this.now = limit.now ?? Date.now;
    this.maxBuckets = limit.maxBuckets ?? 10_000;
    this.sweepIntervalMs = limit.sweepIntervalMs ?? 60_000;
    this.lastSweep = this.now();
  }

  /** Buckets currently kept (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is there. */
  take(key: string): TakeResult {
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, now) : this.limit.burst;
    // Delete and set again: the map's order is then least recently used first.
    this.buckets.delete(key);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      this.evictOverflow();
      return { allowed: true, remaining: Math.floor(tokens - 1) };
    }
    this.buckets.set(key, { tokens, at: now });
    const waitMs = (1 - tokens) / this.perMs;
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  private refilled(bucket: Bucket, now: number): number {
    return Math.min(this.limit.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
  }

  /** Drops buckets that are full again: taking from a fresh bucket gives the same answer. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.limit.burst) this.buckets.delete(key);
    }
  }

  private evictOverflow(): void {
    while (this.buckets.size > this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) return;
      this.buckets.delete(oldest.value);
    }
  }
}

/** How a limit reads in a 429's detail. */
export function describeLimit(limit: RateLimit): string {
  return `${limit.perMinute} request${limit.perMinute === 1 ? '' : 's'} a minute, bursts of up to ${limit.burst}`;
}

/** Takes a token for `key` or answers 429 (setting `Retry-After` on `res`). */
export function enforce(buckets: TokenBuckets | undefined, key: string, res: Response, who: string): void {
  if (!buckets) return;
  const result = buckets.take(key);
  if (result.allowed) return;
  res.set('Retry-After', String(result.retryAfterSec));
  throw new TooManyRequestsError(
    `${who} has made too many requests: the limit is ${describeLimit(buckets.limit)} per API process; try again in ${result.retryAfterSec} s`,
    result.retryAfterSec,
  );
}

/** After `requireBearerToken`: one bucket per principal (its subject); does nothing when `limit` is undefined. */
export function rateLimitPerPrincipal(limit: RateLimit | undefined, now?: () => number): RequestHandler {
  const buckets = limit ? new TokenBuckets({ ...limit, ...(now ? { now } : {}) }) : undefined;
  return (_req, res, next) => {
    if (buckets) {
      const { subject } = principalOf(res);
      enforce(buckets, `principal:${subject}`, res, subject);
    }
    next();
  };
}
