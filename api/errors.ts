/**
 * Typed HTTP errors and the one handler that turns any error into RFC 9457 problem details.
 * Only 5xx are logged as errors: a 4xx is the caller's mistake, told to the caller.
 */
import type { ErrorRequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../shared/logger';
import { requestIdOf } from './request-id';
import { isTemporalUnreachable } from './temporal-runs';

export interface FieldError {
  field: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class InputError extends HttpError {
  constructor(message: string, readonly errors: FieldError[] = []) {
    super(400, 'Invalid request', message, { errors });
  }
}
export class NotAuthenticatedError extends HttpError {
  constructor(message: string) {
    super(401, 'Not authenticated', message);
  }
}
export class NotAllowedError extends HttpError {
  constructor(message: string) {
    super(403, 'Not allowed', message);
  }
}
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'Not found', message);
  }
}
export class ConflictError extends HttpError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(409, 'Conflict', message, extra);
  }
}
export class UnprocessableError extends HttpError {
  constructor(message: string, readonly errors: FieldError[] = []) {
    super(422, 'Unprocessable request', message, { errors });
  }
}
export class ServiceUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, 'Service unavailable', message);
  }
}

export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (unknownKeys.length > 0) {
      return { field: [path, ...unknownKeys].filter(Boolean).join('.'), message: `unknown field ${unknownKeys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { field: path || '(body)', message: issue.message };
  });
}

/** Seconds a 503 asks callers to wait before trying again. */
const RETRY_AFTER_SEC = 5;

/** Extension members come first so they can never overwrite the RFC 9457 members. */
function problem(status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  return { ...extra, type: 'about:blank', title, status, detail };
}

/** body-parser marks its own errors with `type` and `status`. */
function bodyParserError(error: unknown): { status: number; type: string } | undefined {
  if (typeof error === 'object' && error !== null && 'type' in error && 'status' in error) {
    const { status, type } = error as { status: unknown; type: unknown };
    if (typeof status === 'number' && typeof type === 'string') return { status, type };
  }
  return undefined;
}

/** An error http-errors marked as the client's (`expose`, a 4xx status), as body-parser passes on stream errors. */
function exposedClientError(error: unknown): error is Error & { status: number } {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let body: ReturnType<typeof problem>;
    const parserError = bodyParserError(error);
    if (error instanceof HttpError) {
      body = problem(error.status, error.title, error.message, error.extra);
    } else if (isTemporalUnreachable(error)) {
      // The caller (CI, ServiceNow) may try again; nothing was started or lost.
      res.set('Retry-After', String(RETRY_AFTER_SEC));
      body = problem(503, 'Service unavailable', 'Temporal is not reachable right now; nothing was started or changed. Try again shortly.');
    } else if (error instanceof URIError || (error instanceof Error && (error as { status?: unknown }).status === 400 && /decode/i.test(error.message))) {
      body = problem(400, 'Invalid request', 'the request path has a malformed percent-encoding (%XX escape)', { errors: [{ field: '(path)', message: 'malformed percent-encoding' }] });
    } else if (parserError?.type === 'entity.too.large') {
      body = problem(413, 'Payload too large', 'the request body is larger than the limit this endpoint accepts');
    } else if (parserError?.type === 'entity.parse.failed') {
      body = problem(400, 'Invalid request', 'the request body is not valid JSON', { errors: [{ field: '(body)', message: 'malformed JSON' }] });
    } else if (parserError && parserError.status >= 400 && parserError.status < 500) {
      body = problem(parserError.status, 'Invalid request', (error as Error).message);
    } else if (exposedClientError(error)) {
      // E.g. a body that says `Content-Encoding: gzip` but does not inflate: body-parser passes
      // zlib's error on with status 400 and no `type`.
      body = problem(error.status, 'Invalid request', `the request could not be read: ${error.message || 'malformed'}`);
    } else {
      logger.error('request failed', { method: req.method, path: req.path, requestId: requestIdOf(res), error: error instanceof Error ? error.message : String(error) });
      body = problem(500, 'Internal error', 'the platform could not handle the request; operators can find it in the API log');
    }
    res.status(body.status).type('application/problem+json').json({ ...body, instance: req.originalUrl, requestId: requestIdOf(res) });
  };
}
