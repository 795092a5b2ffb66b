/**
 * Request ids: every answer carries `X-Request-Id`, every problem body its `requestId`, and the
 * API's request log line and audit entries name it, so a caller's report, a log line and an
 * audit entry can be matched. A caller (a proxy, a CI job) may send its own id; it is taken when
 * it is a short, safe token, and replaced by a fresh UUID otherwise (it ends up in logs).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** What a caller-supplied id may look like: nothing that could forge a log field or a header. */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's id when it is safe, a new UUID otherwise. */
export function acceptRequestId(supplied: string | undefined): string {
  return supplied !== undefined && SAFE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
}

/** First middleware of the app: names the request and answers with the name. */
export function assignRequestId(): RequestHandler {
  return (req, res, next) => {
    const id = acceptRequestId(req.get(REQUEST_ID_HEADER));
    res.locals.requestId = id;
    res.set(REQUEST_ID_HEADER, id);
    next();
  };
}

/** The request's id; a fresh one when `assignRequestId` did not run (an app built without it). */
export function requestIdOf(res: Response): string {
  const id: unknown = res.locals.requestId;
  if (typeof id === 'string') return id;
  const fresh = randomUUID();
  res.locals.requestId = fresh;
  return fresh;
}
