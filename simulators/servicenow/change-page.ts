/**
 * `GET /nav_to.do?uri=change_request.do?sys_id=<id>`: the page a change's link opens (the URL the
 * platform shows for every change), as a person would see the record in ServiceNow: its fields,
 * its approvers, and how to decide it in the simulator. Unauthenticated, like the /sim buttons.
 */
import { Router } from 'express';
import { sendError } from './http-errors';
import type { ReadonlyChangeStore } from './store';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function changePage(store: ReadonlyChangeStore): Router {
  const router = Router();
  router.get('/nav_to.do', (req, res) => {
    const uri = typeof req.query.uri === 'string' ? req.query.uri : '';
    const sysId = /^change_request\.do\?sys_id=([a-f0-9]{32})$/.exec(uri)?.[1];
    const change = sysId ? store.bySysId(sysId) : undefined;
    if (!change) {
      sendError(res, 404, 'No Record found', `no change for ${JSON.stringify(uri)} (expected uri=change_request.do?sys_id=<32 hex>)`);
      return;
    }
    const fields: [string, string][] = [
      ['Number', change.number],
      ['Short description', change.short_description],
      ['Type', change.type],
      ['State', change.state],
      ['Approval', change.approval],
      ['Requested by', change.requested_by],
      ['Planned start', change.start_date || '—'],
      ['Planned end', change.end_date || '—'],
      ['Correlation id', change.correlation_id],
      ['Close code', change.close_code || '—'],
      ['Close notes', change.close_notes || '—'],
    ];
    const approvals = store.approvals(change.sys_id);
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(change.number)} (ServiceNow simulator)</title></head>
<body style="font-family: sans-serif; max-width: 60rem; margin: 2rem auto">
<h1>${escape(change.number)}: ${escape(change.short_description)}</h1>
<table>${fields.map(([k, v]) => `<tr><th style="text-align:left;padding-right:1rem">${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>
<h2>Description</h2><pre>${escape(change.description)}</pre>
<h2>Approvers</h2>
${approvals.length === 0 ? '<p>No approver has decided yet.</p>' : `<table>${approvals.map((a) => `<tr><td>${escape(a.approver)}</td><td>${escape(a.group)}</td><td>${escape(a.state)}</td><td>${escape(a.sys_updated_on)}</td></tr>`).join('')}</table>`}
<h2>Decide (simulator)</h2>
<pre>curl -X POST ${escape(base)}/sim/changes/${escape(change.number)}/approve -H 'Content-Type: application/json' -d '{"approver":"jane.approver","group":"change-approvers"}'
curl -X POST ${escape(base)}/sim/changes/${escape(change.number)}/reject -H 'Content-Type: application/json' -d '{"approver":"jane.approver","comment":"why"}'</pre>
</body></html>
`);
  });
  return router;
}
