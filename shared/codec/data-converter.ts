/** The data converter every platform client and worker uses: payloads encrypted with the configured keys. */
import type { DataConverter } from '@temporalio/common';
import type { PlatformConfig } from '../config';
import { PayloadEncryptionCodec, payloadKey } from './payload-encryption';

export function payloadCodecFor(config: Pick<PlatformConfig, 'payloadKeys'>): PayloadEncryptionCodec {
  if (!config.payloadKeys) throw new Error('no payload encryption key is configured (PLATFORM_PAYLOAD_KEY)');
  return new PayloadEncryptionCodec(payloadKey(config.payloadKeys.current), config.payloadKeys.previous.map(payloadKey));
}

export function dataConverterFor(config: Pick<PlatformConfig, 'payloadKeys'>): DataConverter {
  return { payloadCodecs: [payloadCodecFor(config)] };
}
