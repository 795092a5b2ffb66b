import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { fieldErrors, HttpError, InputError } from './errors';

/** Parses the JSON body with `schema` before the handler runs; the handler reads `parsedBody(res)`. */
export function validateBody<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, res, next) => {
    if (!req.is('application/json')) {
      throw new HttpError(415, 'Unsupported media type', 'send the body as JSON with "Content-Type: application/json"');
    }
    const result = schema.safeParse(req.body);
    if (!result.success) {
      const errors = fieldErrors(result.error);
      throw new InputError(`the request body has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}: ${errors.map((e) => e.field).join(', ')}`, errors);
    }
    res.locals.body = result.data;
    next();
  };
}

export function parsedBody<T>(res: Response): T {
  return res.locals.body as T;
}

/** Parses the query string with `schema`; 400 naming each bad or unknown parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query);
  if (!result.success) {
    const errors = fieldErrors(result.error);
    throw new InputError(`invalid query parameter${errors.length === 1 ? '' : 's'}: ${errors.map((e) => e.field).join(', ')}`, errors);
  }
  return result.data;
}
