/**
 * Encrypts every payload the platform's clients and workers send to Temporal (workflow inputs,
 * results, signals, queries, activity arguments, summaries), so workflow history holds no plain
 * text: AES-256-GCM over the serialised payload, the key's id in the metadata. Payloads that are
 * not encrypted pass through decode untouched (history written before encryption stays readable).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

/** A key's id: a short fingerprint, so configuration names only the key and ids cannot drift. */
export function payloadKey(key: Buffer): PayloadKey {
  if (key.length !== 32) throw new PayloadCodecError(`a payload key is 32 bytes (AES-256), this one is ${key.length}`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const read = (bytes: Uint8Array | null | undefined): string => (bytes ? new TextDecoder().decode(bytes) : '');

export class PayloadEncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  /** `current` encrypts; it and `previous` decrypt (key rotation). */
  constructor(
    private readonly current: PayloadKey,
    previous: PayloadKey[] = [],
  ) {
    this.byId = new Map([current, ...previous].map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(this.current.id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (read(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = read(payload.metadata?.[KEY_ID_METADATA]);
      const key = this.byId.get(id);
      if (!key) throw new PayloadCodecError(`payload encrypted with key ${id || '(none)'}, which this process does not have`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadCodecError(`encrypted payload (key ${id}) failed authentication: it was altered or the key is wrong`);
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}
