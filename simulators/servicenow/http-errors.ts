/** ServiceNow's error envelope, so clients are tested against the shape a real instance sends. */
import type { ErrorRequestHandler, Response } from 'express';

export function sendError(res: Response, status: number, message: string, detail: string): void {
  res.status(status).json({ error: { message, detail }, status: 'failure' });
}

interface BodyParserError {
  status?: number;
  type?: string;
  message?: string;
}

/** Last in the chain: turns body-parser refusals and unexpected throws into the envelope. */
export function errorEnvelope(log: (message: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const e = (error ?? {}) as BodyParserError;
    if (e.type === 'entity.parse.failed') {
      sendError(res, 400, 'Exception while reading request', 'The payload is not valid JSON.');
      return;
    }
    if (e.type === 'entity.too.large') {
      sendError(res, 413, 'Request entity too large', 'The payload exceeds the 1mb limit.');
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      sendError(res, e.status, 'Invalid request', e.message ?? 'invalid request');
      return;
    }
    log(`error on ${req.method} ${req.path}: ${error instanceof Error ? error.message : String(error)}`);
    sendError(res, 500, 'Internal error', 'the simulator failed to handle the request');
  };
}
