/**
 * Signing and verification of the ServiceNow → platform webhook.
 *
 * ServiceNow has no built-in signed webhook, so an instance's Business Rule signs the call itself
 * with `GlideCertificateEncryption.generateMac(key, "HmacSHA256", data)`, which yields base64. We
 * sign `${timestamp}.${rawBody}` so a captured request cannot be replayed outside the tolerance
 * window, and verify over the raw bytes: re-serialised JSON would not be what was signed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'X-ServiceNow-Timestamp';
export const SIGNATURE_HEADER = 'X-ServiceNow-Signature';
/** Versioned so the scheme can change later without ambiguity about what a header means. */
export const SIGNATURE_SCHEME = 'v1';
export const DEFAULT_TOLERANCE_SEC = 300;

export interface SignedWebhook {
  timestamp: string;
  signature: string;
}

function mac(secret: string, timestamp: string, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

export function signWebhook(secret: string, rawBody: Buffer | string, timestampSec: number): SignedWebhook {
  const timestamp = String(Math.floor(timestampSec));
  return { timestamp, signature: `${SIGNATURE_SCHEME}=${mac(secret, timestamp, rawBody).toString('base64')}` };
}

export interface VerifyWebhookInput {
  /** One secret, or several during a rotation (the current one first): any of them verifies. */
  secret: string | readonly string[];
  rawBody: Buffer;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  nowSec: number;
  toleranceSec?: number;
}

/** `secretIndex`: which of the given secrets matched (0 = the current one). */
export type VerifyWebhookResult = { ok: true; secretIndex: number } | { ok: false; reason: string };

export function verifyWebhookSignature({
  secret,
  rawBody,
  timestampHeader,
  signatureHeader,
  nowSec,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
}: VerifyWebhookInput): VerifyWebhookResult {
  const secrets = (typeof secret === 'string' ? [secret] : secret).filter((s) => s.length > 0);
  if (secrets.length === 0) return { ok: false, reason: 'no webhook secret is configured' };
  const timestamp = timestampHeader?.trim();
  if (!timestamp) return { ok: false, reason: `missing ${TIMESTAMP_HEADER} header` };
  const signature = signatureHeader?.trim();
  if (!signature) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };

  // Digits only: Number() would also accept '1e9', ' 12', '0x1f', which are not what we sign.
  if (!/^[0-9]{1,12}$/.test(timestamp)) return { ok: false, reason: `${TIMESTAMP_HEADER} is not a unix time in seconds` };
  const age = Math.floor(nowSec) - Number(timestamp);
  if (age > toleranceSec) return { ok: false, reason: `timestamp is too old (${age}s, tolerance ${toleranceSec}s): possible replay` };
  if (-age > toleranceSec) return { ok: false, reason: `timestamp is in the future (${-age}s ahead, tolerance ${toleranceSec}s): check clocks` };

  const prefix = `${SIGNATURE_SCHEME}=`;
  if (!signature.startsWith(prefix)) return { ok: false, reason: `signature must start with "${prefix}"` };
  const given = Buffer.from(signature.slice(prefix.length), 'utf8');
  // Every secret is tried, so the time taken does not tell which one (if any) matched.
  let matched = -1;
  secrets.forEach((candidate, index) => {
    const expected = Buffer.from(mac(candidate, timestamp, rawBody).toString('base64'), 'utf8');
    // timingSafeEqual throws on unequal lengths; a length difference reveals nothing secret.
    if (given.length === expected.length && timingSafeEqual(given, expected) && matched < 0) matched = index;
  });
  if (matched < 0) return { ok: false, reason: 'signature does not match' };
  return { ok: true, secretIndex: matched };
}
