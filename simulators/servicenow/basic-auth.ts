/** Basic auth as a ServiceNow instance applies it to the Table API. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors';

export interface Credentials {
  user: string;
  password: string;
}

/** Hashing first gives equal-length inputs, so timingSafeEqual never throws and length leaks nothing. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function parseBasic(header: string | undefined): Credentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicAuth(expected: Credentials): RequestHandler {
  return (req, res, next) => {
    const given = parseBasic(req.get('authorization'));
    // Both comparisons always run, so timing does not tell a wrong user from a wrong password.
    const userOk = same(given?.user ?? '', expected.user);
    const passwordOk = same(given?.password ?? '', expected.password);
    if (given && userOk && passwordOk) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Basic realm="Service-now"');
    sendError(res, 401, 'User Not Authenticated', 'Required to provide Auth information');
  };
}
