/**
 * Payload encryption: the codec itself, what reaches Temporal's history from a real run, and the
 * codec endpoint operators (and the Temporal UI) use to read it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { createApp } from '../../api/app';
import { ENCRYPTED_ENCODING, PayloadCodecError, PayloadEncryptionCodec, payloadKey } from '../../shared/codec/payload-encryption';
import { loadConfig } from '../../shared/config';
import { projectRoot } from '../../scripts/lib/tools';
import { createLogger } from '../../shared/logger';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

const key = () => payloadKey(randomBytes(32));
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('payload encryption codec', () => {
  it('when a payload is encoded and decoded, then it comes back unchanged and was unreadable in between', async () => {
    const codec = new PayloadEncryptionCodec(key());
    const original = json({ project: 'payments', secretRef: 'vault://kv/payments#token' });
    const [sealed] = await codec.encode([original]);
    assert.equal(text(sealed!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.doesNotMatch(Buffer.from(sealed!.data!).toString('latin1'), /payments/);
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), { project: 'payments', secretRef: 'vault://kv/payments#token' });
  });

  it('when a payload was altered, or its key is unknown, then decoding fails saying so', async () => {
    const codec = new PayloadEncryptionCodec(key());
    const [sealed] = await codec.encode([json('x')]);
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await assert.rejects(codec.decode([tampered]), (error: Error) => error instanceof PayloadCodecError && /failed authentication/.test(error.message));
    await assert.rejects(new PayloadEncryptionCodec(key()).decode([sealed!]), /which this process does not have/);
  });

  it('when the key was rotated, then history written with the previous key still decodes; plain payloads pass through', async () => {
    const old = key();
    const [sealed] = await new PayloadEncryptionCodec(old).encode([json(42)]);
    const rotated = new PayloadEncryptionCodec(key(), [old]);
    assert.equal(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!), 42);
    const plain = json('plain');
    assert.deepEqual(await rotated.decode([plain]), [plain]);
  });

  it('when configured, then production needs a 32-byte key and never echoes a bad one', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codec-config-'));
    const base = { PLATFORM_DATA_DIR: dataDir, PLATFORM_ENVIRONMENTS_FILE: join(projectRoot, 'config/environments.yaml') };
    const dev = loadConfig(base, 'worker');
    assert.equal(dev.payloadKeys?.current.length, 32, 'development generates one');
    assert.deepEqual(loadConfig(base, 'api').payloadKeys?.current, dev.payloadKeys?.current, 'and every process of the data directory shares it');
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production' }, 'worker'), /PLATFORM_PAYLOAD_KEY is required/);
    const bad = 'c2hvcnQta2V5';
    assert.throws(
      () => loadConfig({ ...base, PLATFORM_PAYLOAD_KEY: bad }, 'api'),
      (error: Error) => /PLATFORM_PAYLOAD_KEY must be 32 random bytes/.test(error.message) && !error.message.includes(bad),
    );
  });
});

describe('encrypted history and the codec endpoint', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform();
  });
  after(async () => {
    await platform.stop();
  });

  /**
   * Every payload of a run's history, read as the Temporal server stores it (no codec), except what
   * the SDK's core writes itself in plain JSON, past the data converter: the details of `patched()`
   * markers (the patch id) and the `data` of local-activity markers (the call's sequence number,
   * attempt, id, activity type and times; its result goes through the codec). Both are checked to
   * hold nothing else.
   */
  async function storedPayloads(workflowId: string): Promise<Payload[]> {
    const raw = new Client({ connection: platform.client.connection, namespace: platform.config.temporal.namespace });
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const patchMarkers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    for (const marker of patchMarkers) {
      for (const detail of Object.values(marker.markerRecordedEventAttributes?.details ?? {})) {
        for (const payload of detail.payloads ?? []) {
          const value = JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as unknown;
          assert.deepEqual(Object.keys(value as object).sort(), ['deprecated', 'id'], `a patch marker holds only the patch id and its flag, not ${JSON.stringify(value)}`);
        }
      }
    }
    const LOCAL_ACTIVITY_MARKER_KEYS = ['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq'];
    const localActivityData: unknown[] = [];
    for (const e of history.events ?? []) {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_local_activity' || !marker.details?.data) continue;
      for (const payload of marker.details.data.payloads ?? []) {
        const value = JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as object;
        const extra = Object.keys(value).filter((key) => !LOCAL_ACTIVITY_MARKER_KEYS.includes(key));
        assert.deepEqual(extra, [], `a local-activity marker's data holds only the call's bookkeeping, not ${JSON.stringify(value)}`);
      }
      localActivityData.push(marker.details.data);
    }
    const events = (history.events ?? []).filter((e) => !patchMarkers.includes(e));
    const notCoreWritten = (value: unknown) => !localActivityData.includes(value);
    const found: Payload[] = [];
    const walk = (value: unknown): void => {
      if (!value || typeof value !== 'object') return;
      if (ArrayBuffer.isView(value)) return;
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.payloads)) found.push(...(record.payloads as temporal.api.common.v1.IPayload[] as Payload[]));
      for (const child of Object.values(record)) if (notCoreWritten(child)) walk(child);
    };
    walk(events);
    return found;
  }

  it('when a deployment runs, then its history holds only encrypted payloads, which the codec endpoint decodes for an admin', async () => {
    const digest = uniqueDigest();
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'sealed', image: `registry.example.com/payments/sealed@${digest}` }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await platform.waitForStatus(started.body.deploymentId, 'succeeded');

    const payloads = await storedPayloads(started.body.deploymentId);
    assert.ok(payloads.length > 5, `found ${payloads.length} payloads`);
    for (const payload of payloads) assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING);
    const everything = payloads.map((p) => Buffer.from(p.data ?? []).toString('latin1')).join('');
    assert.doesNotMatch(everything, new RegExp(digest.slice(7, 40)), 'the image digest is nowhere in plain text');

    const asJson = (p: Payload) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    });
    const decoded = await platform.http('POST', '/codec/decode', { payloads: payloads.slice(0, 1).map(asJson) }, { headers: { 'X-Namespace': platform.config.temporal.namespace } });
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    const input = Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8');
    assert.match(input, new RegExp(digest), 'the workflow input, decoded');

    const roundTrip = await platform.http('POST', '/codec/encode', { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hi"').toString('base64') }] });
    assert.equal(roundTrip.status, 200);
    assert.equal(Buffer.from(roundTrip.body.payloads[0].metadata.encoding, 'base64').toString(), ENCRYPTED_ENCODING);

    const notAdmin = await platform.http('POST', '/codec/decode', { payloads: [] }, { token: platform.tokens.payments });
    assert.equal(notAdmin.status, 403);
    const badToken = await platform.http('POST', '/codec/decode', { payloads: [] }, { token: 'nope' });
    assert.equal(badToken.status, 401);
    const otherNamespace = await platform.http('POST', '/codec/decode', { payloads: [] }, { headers: { 'X-Namespace': 'elsewhere' } });
    assert.equal(otherNamespace.status, 400);
    const garbage = await platform.http('POST', '/codec/decode', { payloads: [{ data: '***' }] });
    assert.equal(garbage.status, 400);
    const forged = await platform.http('POST', '/codec/decode', {
      payloads: [{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING).toString('base64'), 'encryption-key-id': Buffer.from('zzz').toString('base64') }, data: Buffer.alloc(40).toString('base64') }],
    });
    assert.equal(forged.status, 400);
    assert.match(forged.body.detail, /does not have/);
  });

  it('when the Temporal UI asks from its origin, then CORS lets it; on this machine outside production no token is needed, in production one is', async () => {
    const uiOrigin = new URL(platform.config.temporal.uiUrl).origin;
    const preflight = await fetch(`http://127.0.0.1:${platform.config.api.port}/codec/decode`, { method: 'OPTIONS', headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    // The same UI opened at the loopback twin of its host (localhost ↔ 127.0.0.1) is let in too.
    const twin = uiOrigin.includes('localhost') ? uiOrigin.replace('localhost', '127.0.0.1') : uiOrigin.replace('127.0.0.1', 'localhost');
    const viaTwin = await fetch(`http://127.0.0.1:${platform.config.api.port}/codec/decode`, { method: 'OPTIONS', headers: { Origin: twin, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(viaTwin.headers.get('access-control-allow-origin'), twin);
    const stranger = await fetch(`http://127.0.0.1:${platform.config.api.port}/codec/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com' } });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);

    const anonymous = await platform.http('POST', '/codec/decode', { payloads: [] }, { token: null });
    assert.equal(anonymous.status, 200, 'development, loopback: the dev UI needs no token');

    const production = createApp({
      config: { ...platform.config, production: true },
      client: platform.client,
      store: platform.store,
      logger: createLogger('test', 'error'),
    });
    const server = production.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/codec/decode`;
      const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' });
      assert.equal(refused.status, 401);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
