/** `/api/now/table/change_request`: the Table API subset the platform's adapter speaks. */
import express, { Router, type Request } from 'express';
import { basicAuth, type Credentials } from './basic-auth';
import { sendError } from './http-errors';
import { parseEncodedQuery, parseLimit } from './query';
import { FieldError, readFields, type ChangeFields } from './records';
import type { ChangeStore } from './store';

/** Express 5 yields string[] for a repeated parameter; ServiceNow takes one value per parameter. */
function single(req: Request, name: string): string | undefined | null {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

export function tableApi(store: ChangeStore, credentials: Credentials, log: (message: string) => void): Router {
  const router = Router();
  router.use(basicAuth(credentials));
  router.use(express.json({ limit: '1mb' }));

  /** Parses the body's fields, answering 400 itself when it cannot. */
  const fieldsOf = (req: Request, res: express.Response): ChangeFields | undefined => {
    if (!isObject(req.body)) {
      sendError(res, 400, 'Exception while reading request', 'The request body must be a JSON object (Content-Type: application/json).');
      return undefined;
    }
    try {
      return readFields(req.body);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      sendError(res, 400, 'Invalid field value', error.message);
      return undefined;
    }
  };

  router.get('/', (req, res) => {
    const rawQuery = single(req, 'sysparm_query');
    const rawLimit = single(req, 'sysparm_limit');
    if (rawQuery === null || rawLimit === null) {
      sendError(res, 400, 'Invalid query', 'sysparm_query and sysparm_limit may be given once each');
      return;
    }
    const query = parseEncodedQuery(rawQuery);
    if (!query.ok) {
      sendError(res, 400, 'Invalid query', query.reason);
      return;
    }
    const limit = parseLimit(rawLimit);
    if (!limit.ok) {
      sendError(res, 400, 'Invalid query', limit.reason);
      return;
    }
    res.json({ result: store.find(query.match, limit.limit) });
  });

  router.post('/', (req, res) => {
    const fields = fieldsOf(req, res);
    if (!fields) return;
    if (!fields.short_description?.trim()) {
      sendError(res, 400, 'Missing mandatory field', 'short_description is required');
      return;
    }
    const change = store.create(fields);
    log(`created ${change.number} (${change.type}, approval ${change.approval}, correlation ${change.correlation_id || '-'})`);
    res.status(201).location(`${req.baseUrl}/${change.sys_id}`).json({ result: change });
  });

  router.get('/:sysId', (req, res) => {
    const change = store.bySysId(req.params.sysId);
    if (!change) {
      sendError(res, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return;
    }
    res.json({ result: change });
  });

  const update: express.RequestHandler<{ sysId: string }> = (req, res) => {
    if (!store.bySysId(req.params.sysId)) {
      sendError(res, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return;
    }
    const fields = fieldsOf(req, res);
    if (!fields) return;
    const change = store.update(req.params.sysId, fields);
    if (!change) {
      sendError(res, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return;
    }
    log(`updated ${change.number}: ${Object.keys(fields).join(', ') || 'nothing'} (state ${change.state}${change.close_code ? `, ${change.close_code}` : ''})`);
    res.json({ result: change });
  };
  // The Table API treats PUT as PATCH; both are offered so a client's choice does not matter.
  router.patch('/:sysId', update);
  router.put('/:sysId', update);

  return router;
}
