/**
 * The codec endpoint (`POST /codec/encode`, `POST /codec/decode`): lets the Temporal UI, and
 * `temporal workflow show --codec-endpoint`, show the encrypted payloads of the platform's runs
 * in plain text to people allowed to read them. Callers need a `platform-admin` bearer token;
 * outside production, requests from this machine are let in without one so the dev server's UI
 * works on a laptop. The UI calls from the browser, hence CORS for the UI's origin.
 */
import express, { Router, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { CiTokenGrant, PlatformConfig } from '../../shared/config';
import { PayloadCodecError } from '../../shared/codec/payload-encryption';
import { assertRole, principalOf, requireBearerToken } from '../auth';
import { fieldErrors, InputError, NotAuthenticatedError } from '../errors';

/** History payloads (rendered manifests, status views) can be far larger than an API request. */
const CODEC_BODY_LIMIT = '8mb';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const payloadsSchema = z.strictObject({
  payloads: z.array(z.strictObject({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000),
});
type JsonPayload = z.infer<typeof payloadsSchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface CodecRoutesDeps {
  config: PlatformConfig;
  codec: PayloadCodec;
  /** Tokens the platform issued (landing zones), as for the rest of the API. */
  issuedTokens: (tokenHash: string) => CiTokenGrant | undefined;
}

/**
 * The UI's origin; on this machine also its loopback twin, since a browser may open the UI at
 * localhost or 127.0.0.1 (different origins to CORS) whichever TEMPORAL_UI_URL names.
 */
export function uiOriginsOf(uiUrl: string): Set<string> {
  const url = new URL(uiUrl);
  const origins = new Set([url.origin]);
  const twin = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' }[url.hostname];
  if (twin) origins.add(new URL(`${url.protocol}//${twin}${url.port ? `:${url.port}` : ''}`).origin);
  return origins;
}

export function codecRoutes({ config, codec, issuedTokens }: CodecRoutesDeps): Router {
  const router = Router();
  const uiOrigins = uiOriginsOf(config.temporal.uiUrl);
  const bearer = requireBearerToken(config.ciTokens, issuedTokens);

  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin && uiOrigins.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };

  // The bearer check is async: awaited, so its refusals reach the problem handler.
  const authorise: RequestHandler = async (req, res, next) => {
    if (!req.get('authorization') && !config.production && LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      next();
      return;
    }
    if (!req.get('authorization')) throw new NotAuthenticatedError('the codec endpoint needs "Authorization: Bearer <token>" of a platform-admin');
    await bearer(req, res, () => {
      assertRole(principalOf(res), ['platform-admin'], 'read or write encrypted payloads');
      next();
    });
  };

  const checkNamespace: RequestHandler = (req, _res, next) => {
    const namespace = req.get('x-namespace');
    if (namespace !== undefined && namespace !== config.temporal.namespace) {
      throw new InputError(`this codec serves namespace "${config.temporal.namespace}" only`, [{ field: 'X-Namespace', message: `"${namespace}" is not served here` }]);
    }
    next();
  };

  for (const action of ['encode', 'decode'] as const) {
    router.all(`/codec/${action}`, cors);
    router.post(`/codec/${action}`, authorise, checkNamespace, express.json({ limit: CODEC_BODY_LIMIT }), async (req, res) => {
      const parsed = payloadsSchema.safeParse(req.body);
      if (!parsed.success) throw new InputError('the body must be {"payloads": [{"metadata": {...}, "data": "<base64>"}]}', fieldErrors(parsed.error));
      try {
        const payloads = await codec[action](parsed.data.payloads.map(fromJson));
        res.json({ payloads: payloads.map(toJson) });
      } catch (error) {
        if (error instanceof PayloadCodecError) throw new InputError(error.message);
        throw error;
      }
    });
  }
  return router;
}
