/**
 * `GET /v1/audit` (platform-admin): the audit log, newest first, one page at a time (`limit`,
 * then `cursor` = the previous page's `nextCursor`); filters actor, action, project, since, until.
 */
import { Router } from 'express';
import { auditQuerySchema } from '../../shared/schemas/audit';
import type { AuditRepository } from '../../shared/store';
import { assertRole, principalOf } from '../auth';
import { InputError } from '../errors';
import { parseQuery } from '../validate';

/** The cursor is the last entry's id, opaque to callers. */
const encodeCursor = (id: number): string => Buffer.from(`a${id}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = /^a([1-9][0-9]{0,15})$/.exec(/^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('latin1') : '');
  if (!match?.[1]) throw new InputError('the cursor is not one this API returned', [{ field: 'cursor', message: 'not a cursor of this list' }]);
  return Number(match[1]);
}

const utc = (time: string | undefined): string | undefined => (time === undefined ? undefined : new Date(time).toISOString());

export function auditRoutes({ audit }: { audit: AuditRepository }): Router {
  const router = Router();
  router.get('/audit', (req, res) => {
    assertRole(principalOf(res), ['platform-admin'], 'read the audit log');
    const q = parseQuery(auditQuerySchema, req.query);
    const since = utc(q.since);
    const until = utc(q.until);
    const { entries, more } = audit.list({
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.project !== undefined ? { project: q.project } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(q.cursor !== undefined ? { beforeId: decodeCursor(q.cursor) } : {}),
      limit: q.limit,
    });
    const last = entries.at(-1);
    res.json({ items: entries, ...(more && last ? { nextCursor: encodeCursor(last.id) } : {}) });
  });
  return router;
}
