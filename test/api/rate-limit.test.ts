/**
 * Per-token rate limits: the bucket arithmetic with an injected clock (no timing), the
 * configuration that sets them, and over HTTP: 429 with Retry-After once a token's burst is spent,
 * other tokens unaffected, the webhook's own bucket, and no limit when it is turned off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeLimit, TokenBuckets } from '../../api/rate-limit';
import { ConfigError, loadConfig } from '../../shared/config';
import { DEFAULT_LIMITS, parseLimits } from '../../shared/config/limits';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('token buckets (injected clock)', () => {
  it('when the burst is spent, then the next take is refused with the whole seconds until a token is back', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 60, burst: 3, now: c.now });
    for (let i = 0; i < 3; i += 1) assert.equal(buckets.take('a').allowed, true, `take ${i + 1}`);
    assert.deepEqual(buckets.take('a'), { allowed: false, retryAfterSec: 1 });
    c.advance(999);
    assert.equal(buckets.take('a').allowed, false);
    c.advance(1);
    assert.deepEqual(buckets.take('a'), { allowed: true, remaining: 0 });
  });

  it('when the rate is slow, then Retry-After rounds the wait up', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 4, burst: 1, now: c.now });
    assert.equal(buckets.take('a').allowed, true);
    assert.deepEqual(buckets.take('a'), { allowed: false, retryAfterSec: 15 });
    c.advance(14_001);
    assert.deepEqual(buckets.take('a'), { allowed: false, retryAfterSec: 1 });
    c.advance(999);
    assert.equal(buckets.take('a').allowed, true);
  });

  it('when time passes, then the bucket refills at the rate but never beyond the burst', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 600, burst: 5, now: c.now });
    for (let i = 0; i < 5; i += 1) buckets.take('a');
    c.advance(300); // 3 tokens at 10 a second
    assert.deepEqual(buckets.take('a'), { allowed: true, remaining: 2 });
    c.advance(3_600_000);
    assert.deepEqual(buckets.take('a'), { allowed: true, remaining: 4 });
  });

  it('when one key has spent its burst, then another key still has its own', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 1, burst: 2, now: c.now });
    buckets.take('a');
    buckets.take('a');
    assert.equal(buckets.take('a').allowed, false);
    assert.deepEqual(buckets.take('b'), { allowed: true, remaining: 1 });
  });

  it('when buckets have refilled completely, then a sweep drops them; the answer is the same as before', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 60, burst: 2, now: c.now, sweepIntervalMs: 10_000 });
    for (let i = 0; i < 100; i += 1) buckets.take(`key-${i}`);
    assert.equal(buckets.size, 100);
    c.advance(10_000); // one token a second: full after 1 s
    buckets.take('key-0');
    assert.equal(buckets.size, 1, 'only the bucket just used is kept');
    assert.deepEqual(buckets.take('key-1'), { allowed: true, remaining: 1 }, 'a dropped bucket starts full, as it would have been');
  });

  it('when more keys arrive than the map may hold, then the least recently used go', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perMinute: 60, burst: 2, now: c.now, maxBuckets: 3 });
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    buckets.take('a'); // a is now the most recently used
    buckets.take('d');
    assert.equal(buckets.size, 3);
    assert.equal(buckets.take('a').allowed, false, 'a was kept (spent)');
    assert.deepEqual(buckets.take('b'), { allowed: true, remaining: 1 }, 'b was evicted and starts afresh');
  });

  it('refuses a limit that cannot be enforced', () => {
    assert.throws(() => new TokenBuckets({ perMinute: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBuckets({ perMinute: 1, burst: 0 }), RangeError);
  });
});

describe('rate-limit configuration', () => {
  it('defaults to 600 a minute with bursts of 100 per token, and its own limit for the webhook', () => {
    const problems: string[] = [];
    assert.deepEqual(parseLimits({}, problems), { perToken: { perMinute: 600, burst: 100 }, webhook: { perMinute: 300, burst: 100 } });
    assert.deepEqual(problems, []);
    assert.deepEqual(DEFAULT_LIMITS.perToken, { perMinute: 600, burst: 100 });
  });

  it('when a rate is 0, then that limit is off', () => {
    const problems: string[] = [];
    const limits = parseLimits({ API_RATE_LIMIT_PER_MINUTE: '0', WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' }, problems);
    assert.deepEqual(limits, { perToken: undefined, webhook: undefined });
    assert.deepEqual(problems, []);
  });

  it('when a value is not a whole number in range, then the API refuses to start, naming the variable', () => {
    const problems: string[] = [];
    parseLimits({ API_RATE_LIMIT_PER_MINUTE: '-5', API_RATE_LIMIT_BURST: '0', WEBHOOK_RATE_LIMIT_BURST: '1.5' }, problems);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /API_RATE_LIMIT_PER_MINUTE.*API_RATE_LIMIT_BURST.*WEBHOOK_RATE_LIMIT_BURST/s);
  });

  it('describes a limit for people', () => {
    assert.equal(describeLimit({ perMinute: 1, burst: 3 }), '1 request a minute, bursts of up to 3');
    assert.equal(describeLimit({ perMinute: 600, burst: 100 }), '600 requests a minute, bursts of up to 100');
  });
});

describe('rate limits over HTTP', () => {
  let limited: TestPlatform;
  let unlimited: TestPlatform;

  before(async () => {
    // One request a minute after a burst of 3: nothing refills during the test.
    limited = await startTestPlatform({
      startWorker: false,
      env: { API_RATE_LIMIT_PER_MINUTE: '1', API_RATE_LIMIT_BURST: '3', WEBHOOK_RATE_LIMIT_PER_MINUTE: '1', WEBHOOK_RATE_LIMIT_BURST: '1' },
    });
    unlimited = await startTestPlatform({ startWorker: false, env: { API_RATE_LIMIT_PER_MINUTE: '0', WEBHOOK_RATE_LIMIT_PER_MINUTE: '0' } });
  });
  after(async () => {
    await limited?.stop();
    await unlimited?.stop();
  });

  it('a bad value stops the API from starting, not the worker', () => {
    assert.throws(() => loadConfig({ ...limited.env, API_RATE_LIMIT_BURST: 'lots' }, 'api'), (error: unknown) => error instanceof ConfigError && /API_RATE_LIMIT_BURST/.test(error.message));
    assert.equal(loadConfig({ ...limited.env, API_RATE_LIMIT_BURST: 'lots' }, 'worker').limits.perToken?.burst, 100);
  });

  it('when a token has spent its burst, then 429 with Retry-After and the limit in the detail; other tokens are unaffected', async () => {
    const path = '/v1/config/retail/payments';
    for (let i = 0; i < 3; i += 1) {
      const ok = await limited.http('GET', path, undefined, { token: limited.tokens.payments });
      assert.equal(ok.status, 200, `request ${i + 1}: ${JSON.stringify(ok.body)}`);
    }
    const refused = await limited.http('GET', path, undefined, { token: limited.tokens.payments });
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    const retryAfter = refused.headers.get('retry-after') ?? '';
    assert.match(retryAfter, /^[0-9]+$/);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, retryAfter);
    assert.match(refused.body.detail, /ci-payments/);
    assert.match(refused.body.detail, /1 request a minute, bursts of up to 3 per API process/);
    assert.equal(refused.body.requestId, refused.headers.get('x-request-id'));

    // Another principal has its own bucket.
    const admin = await limited.http('GET', path, undefined, { token: limited.tokens.admin });
    assert.equal(admin.status, 200);
    // Unauthenticated calls are answered 401 before any bucket is looked at.
    assert.equal((await limited.http('GET', path, undefined, { token: null })).status, 401);
  });

  it('when the webhook has spent its own burst, then verified calls get 429; forged ones are 401 and cost nothing', async () => {
    const sign = (body: string) => {
      const signed = signWebhook(limited.webhookSecret, body, Math.floor(Date.now() / 1000));
      return { [TIMESTAMP_HEADER]: signed.timestamp, [SIGNATURE_HEADER]: signed.signature };
    };
    const body = JSON.stringify({ number: 'CHG9999998', approval: 'approved', approver: 'mallory' });
    const forged = await limited.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: { [TIMESTAMP_HEADER]: '1', [SIGNATURE_HEADER]: 'v1=AAAA' } });
    assert.equal(forged.status, 401);
    const first = await limited.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: sign(body) });
    assert.equal(first.status, 404, JSON.stringify(first.body));
    const second = await limited.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: sign(body) });
    assert.equal(second.status, 429);
    assert.match(second.headers.get('retry-after') ?? '', /^[0-9]+$/);
    assert.match(second.body.detail, /ServiceNow webhook/);
  });

  it('when the limit is turned off, then a token is never refused', async () => {
    for (let i = 0; i < 30; i += 1) {
      const res = await unlimited.http('GET', '/v1/config/retail/payments', undefined, { token: unlimited.tokens.payments });
      assert.equal(res.status, 200, `request ${i + 1}`);
    }
  });
});
