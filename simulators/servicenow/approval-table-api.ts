/**
 * `/api/now/table/sysapproval_approver`: the approval records, read-only. Approvers write them
 * through `/sim`; on an instance the platform's integration user only reads them as well.
 */
import { Router, type Request, type Response } from 'express';
import { approvalColumn, isApprovalColumn, projectApproval, type ApprovalColumn } from './approval-records';
import { basicAuth, type Credentials } from './basic-auth';
import { sendError } from './http-errors';
import { parseEncodedQuery, parseFieldList, parseLimit, parseOffset, select, single, singleParameters } from './query';
import type { ReadonlyChangeStore } from './store';

const PARAMETERS = ['sysparm_query', 'sysparm_limit', 'sysparm_offset', 'sysparm_fields'] as const;
type Parameter = (typeof PARAMETERS)[number];

/** Reads the parameters, answering 400 itself when one is repeated. */
function parameters(req: Request, res: Response): Partial<Record<Parameter, string>> | undefined {
  const read = singleParameters(req, PARAMETERS);
  if (!read.ok) {
    sendError(res, 400, 'Invalid query', read.reason);
    return undefined;
  }
  return read.values;
}

/** sysparm_fields, answering 400 itself for a name the table does not have. */
function columnsOf(raw: string | undefined, res: Response): { columns: ApprovalColumn[] | undefined } | undefined {
  const fields = parseFieldList(raw, isApprovalColumn);
  if (!fields.ok) {
    sendError(res, 400, 'Invalid query', fields.reason);
    return undefined;
  }
  return { columns: fields.fields };
}

export function approvalTableApi(store: ReadonlyChangeStore, credentials: Credentials): Router {
  const router = Router();
  router.use(basicAuth(credentials));

  router.get('/', (req, res) => {
    const params = parameters(req, res);
    if (!params) return;
    // field=value terms only: the adapter reads one change's approvals and needs no more.
    const query = parseEncodedQuery(params.sysparm_query, isApprovalColumn);
    if (!query.ok) {
      sendError(res, 400, 'Invalid query', query.reason);
      return;
    }
    const limit = parseLimit(params.sysparm_limit);
    if (!limit.ok) {
      sendError(res, 400, 'Invalid query', limit.reason);
      return;
    }
    const offset = parseOffset(params.sysparm_offset);
    if (!offset.ok) {
      sendError(res, 400, 'Invalid query', offset.reason);
      return;
    }
    const wanted = columnsOf(params.sysparm_fields, res);
    if (!wanted) return;
    const found = select(store.approvals(), query.query, approvalColumn, { offset: offset.offset, limit: limit.limit });
    res.json({ result: found.map((a) => projectApproval(a, wanted.columns)) });
  });

  router.get('/:sysId', (req, res) => {
    const rawFields = single(req, 'sysparm_fields');
    if (rawFields === null) {
      sendError(res, 400, 'Invalid query', 'sysparm_fields may be given once');
      return;
    }
    const wanted = columnsOf(rawFields, res);
    if (!wanted) return;
    const approval = store.approvalBySysId(req.params.sysId);
    if (!approval) {
      sendError(res, 404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      return;
    }
    res.json({ result: projectApproval(approval, wanted.columns) });
  });

  return router;
}
