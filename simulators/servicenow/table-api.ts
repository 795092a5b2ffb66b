/** `/api/now/table/change_request`: the Table API subset the platform's adapter speaks. */
import express, { Router, type Request } from 'express';
import { basicAuth, type Credentials } from './basic-auth';
import { sendError } from './http-errors';
import { parseEncodedQuery, parseFieldList, parseLimit, parseOffset, project, singleParameters, type Page } from './query';
import { FieldError, isField, isSysId, ordersAsText, readFields, type ChangeFields, type Field, type SimChange } from './records';
import { DuplicateSysIdError, readField, type ChangeStore, type Match } from './store';

const LIST_PARAMETERS = ['sysparm_query', 'sysparm_limit', 'sysparm_offset', 'sysparm_fields'] as const;

/** What a list request asks for, or why it cannot be answered. */
type ListRequest = { ok: true; match: Match; page: Page; fields: Field[] | undefined } | { ok: false; reason: string };

/** The change table takes the whole supported grammar: the platform pages through one query for decided changes. */
function listRequest(req: Request): ListRequest {
  const params = singleParameters(req, LIST_PARAMETERS);
  if (!params.ok) return params;
  const { sysparm_query, sysparm_limit, sysparm_offset, sysparm_fields } = params.values;
  const query = parseEncodedQuery(sysparm_query, isField, { extended: true, ordersAsText });
  if (!query.ok) return query;
  const limit = parseLimit(sysparm_limit);
  if (!limit.ok) return limit;
  const offset = parseOffset(sysparm_offset);
  if (!offset.ok) return offset;
  const fields = parseFieldList(sysparm_fields, isField);
  if (!fields.ok) return fields;
  return { ok: true, match: query.query, page: { offset: offset.offset, limit: limit.limit }, fields: fields.fields };
}

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * A caller-chosen sys_id makes an insert repeatable: a retry meets the 403 instead of creating a
 * twin. Undefined: none given (one is generated); null: given but not a sys_id.
 */
function chosenSysId(body: Record<string, unknown>): string | undefined | null {
  const value = body.sys_id;
  if (value === undefined || value === null) return undefined;
  return isSysId(value) ? value : null;
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

  /** Creates the change, answering 403 itself (as an instance does) when the sys_id is taken. */
  const insert = (fields: ChangeFields, sysId: string | undefined, res: express.Response): SimChange | undefined => {
    try {
      return store.create(fields, new Date(), sysId);
    } catch (error) {
      if (!(error instanceof DuplicateSysIdError)) throw error;
      log(`refused insert: sys_id ${error.sysId} already exists`);
      sendError(res, 403, 'Operation Failed', `Error during insert of change_request (${error.message})`);
      return undefined;
    }
  };

  router.get('/', (req, res) => {
    const list = listRequest(req);
    if (!list.ok) {
      sendError(res, 400, 'Invalid query', list.reason);
      return;
    }
    res.json({ result: store.find(list.match, list.page).map((change) => project(change, list.fields, readField)) });
  });

  router.post('/', (req, res) => {
    const fields = fieldsOf(req, res);
    if (!fields) return;
    if (!fields.short_description?.trim()) {
      sendError(res, 400, 'Missing mandatory field', 'short_description is required');
      return;
    }
    const sysId = chosenSysId(req.body as Record<string, unknown>);
    if (sysId === null) {
      sendError(res, 400, 'Invalid field value', 'sys_id must be 32 lowercase hexadecimal characters');
      return;
    }
    const change = insert(fields, sysId, res);
    if (!change) return;
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
