import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhookSignature, type VerifyWebhookInput } from '../../shared/webhook-signature';

const secret = 'test-webhook-secret-0123456789';
const now = 1_750_000_000;
const body = Buffer.from(JSON.stringify({ number: 'CHG0030001', approval: 'approved', approver: 'jane' }));

function signed(overrides: Partial<VerifyWebhookInput> = {}, signedAt = now): VerifyWebhookInput {
  const { timestamp, signature } = signWebhook(secret, body, signedAt);
  return { secret, rawBody: body, timestampHeader: timestamp, signatureHeader: signature, nowSec: now, ...overrides };
}

function reasonOf(input: VerifyWebhookInput): string {
  const verdict = verifyWebhookSignature(input);
  assert.equal(verdict.ok, false);
  return verdict.ok ? '' : verdict.reason;
}

describe('webhook signature', () => {
  it('when signed, then the headers are the unix time and v1=base64 HMAC-SHA256 of "timestamp.body"', () => {
    const { timestamp, signature } = signWebhook(secret, body, now);
    assert.equal(timestamp, String(now));
    const expected = createHmac('sha256', secret).update(`${now}.${body.toString('utf8')}`).digest('base64');
    assert.equal(signature, `v1=${expected}`);
    assert.equal(TIMESTAMP_HEADER, 'X-ServiceNow-Timestamp');
    assert.equal(SIGNATURE_HEADER, 'X-ServiceNow-Signature');
  });

  it('when a string body is signed, then it verifies as the same bytes', () => {
    const { timestamp, signature } = signWebhook(secret, body.toString('utf8'), now);
    assert.deepEqual(verifyWebhookSignature({ secret, rawBody: body, timestampHeader: timestamp, signatureHeader: signature, nowSec: now }), { ok: true, secretIndex: 0 });
  });

  it('when the body, secret and timestamp are the signed ones, then it verifies', () => {
    assert.deepEqual(verifyWebhookSignature(signed()), { ok: true, secretIndex: 0 });
  });

  it('when the timestamp is within the tolerance either way, then it verifies', () => {
    assert.deepEqual(verifyWebhookSignature(signed({}, now - 300)), { ok: true, secretIndex: 0 });
    assert.deepEqual(verifyWebhookSignature(signed({}, now + 300)), { ok: true, secretIndex: 0 });
  });

  it('when two secrets are active (a rotation), then a body signed with either verifies and says which', () => {
    const next = 'next-webhook-secret-9876543210abc';
    const withNext = signWebhook(next, body, now);
    const input = (sig: { timestamp: string; signature: string }): VerifyWebhookInput => ({ secret: [next, secret], rawBody: body, timestampHeader: sig.timestamp, signatureHeader: sig.signature, nowSec: now });
    assert.deepEqual(verifyWebhookSignature(input(withNext)), { ok: true, secretIndex: 0 });
    assert.deepEqual(verifyWebhookSignature(input(signWebhook(secret, body, now))), { ok: true, secretIndex: 1 });
    assert.match(reasonOf(input(signWebhook('some-other-secret-000000000000', body, now))), /signature does not match/);
    assert.match(reasonOf({ ...input(withNext), secret: ['', ''] }), /no webhook secret is configured/);
  });

  it('when one byte of the body changed, then the signature does not match', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('jane', 'mall'));
    assert.match(reasonOf(signed({ rawBody: tampered })), /signature does not match/);
  });

  it('when the timestamp header is changed after signing, then the signature does not match', () => {
    assert.match(reasonOf(signed({ timestampHeader: String(now - 1) })), /signature does not match/);
  });

  it('when signed with another secret, then the signature does not match', () => {
    assert.match(reasonOf(signed({ secret: 'another-secret' })), /signature does not match/);
  });

  it('when the timestamp header is missing or empty, then it is refused naming the header', () => {
    assert.match(reasonOf(signed({ timestampHeader: undefined })), /missing X-ServiceNow-Timestamp/);
    assert.match(reasonOf(signed({ timestampHeader: '  ' })), /missing X-ServiceNow-Timestamp/);
  });

  it('when the signature header is missing, then it is refused naming the header', () => {
    assert.match(reasonOf(signed({ signatureHeader: undefined })), /missing X-ServiceNow-Signature/);
  });

  it('when the timestamp is not whole seconds, then it is refused as not a unix time', () => {
    for (const bad of ['yesterday', '1.75e9', '-5', '0x68', `${now}.5`]) {
      assert.match(reasonOf(signed({ timestampHeader: bad })), /not a unix time/, bad);
    }
  });

  it('when the timestamp is older than the tolerance, then it is refused as too old', () => {
    assert.match(reasonOf(signed({}, now - 301)), /too old.*replay/);
    assert.match(reasonOf(signed({ toleranceSec: 60 }, now - 61)), /too old/);
  });

  it('when the timestamp is further ahead than the tolerance, then it is refused as in the future', () => {
    assert.match(reasonOf(signed({}, now + 301)), /in the future/);
  });

  it('when the signature has another length, then it is a mismatch and nothing throws', () => {
    assert.match(reasonOf(signed({ signatureHeader: 'v1=c2hvcnQ=' })), /signature does not match/);
    const long = `${signWebhook(secret, body, now).signature}AAAA`;
    assert.match(reasonOf(signed({ signatureHeader: long })), /signature does not match/);
  });

  it('when the signature lacks the v1= scheme, then it is refused naming the scheme', () => {
    const bare = signWebhook(secret, body, now).signature.slice(3);
    assert.match(reasonOf(signed({ signatureHeader: bare })), /v1=/);
  });

  it('when the receiver has no secret, then nothing verifies', () => {
    assert.match(reasonOf(signed({ secret: '' })), /no webhook secret/);
  });
});
