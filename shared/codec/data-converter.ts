/**
 * The data converter every platform client and worker uses: payloads encrypted with the configured
 * keys, and failure messages and stack traces moved into an encrypted payload (see
 * `failure-converter.ts`).
 */
import type { DataConverter } from '@temporalio/common';
import type { PlatformConfig } from '../config';
import { PayloadEncryptionCodec, payloadKey } from './payload-encryption';

/**
 * The module exporting `failureConverter`. The SDK takes converters by path, not as objects, because
 * the workflow sandbox cannot receive an object from the worker: webpack bundles the module into the
 * workflow code. Resolved here so it is `.ts` under tsx and `.js` in the compiled image alike.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function payloadCodecFor(config: Pick<PlatformConfig, 'payloadKeys'>): PayloadEncryptionCodec {
  if (!config.payloadKeys) throw new Error('no payload encryption key is configured (PLATFORM_PAYLOAD_KEY)');
  return new PayloadEncryptionCodec(payloadKey(config.payloadKeys.current), config.payloadKeys.previous.map(payloadKey));
}

/**
 * For `new Client({ dataConverter })` and `Worker.create({ dataConverter })`. Both load the failure
 * converter from the path (client: every failure it decodes or sends; worker: activity failures and,
 * when the worker bundles the workflows itself, the bundle). A pre-built workflow bundle must be
 * built with `deployWorkflowBundleOptions` from `workers/deploy-worker.ts`, or its workflows' own
 * failures (a rejection naming the approver) reach history in plain text.
 */
export function dataConverterFor(config: Pick<PlatformConfig, 'payloadKeys'>): DataConverter {
  return { payloadCodecs: [payloadCodecFor(config)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
