/**
 * `/sim/...`: what a person does in ServiceNow's UI. Unauthenticated on purpose: the simulator is a
 * development tool, and these routes stand in for a human clicking Approve or Reject.
 */
import express, { Router } from 'express';
import { sendError } from './http-errors';
import { appendComment, glideDateTime, STATES } from './records';
import type { ChangeStore } from './store';
import { decisionBody, sendDecisionWebhook, type WebhookTarget } from './webhook';

const DECISIONS = {
  approve: { approval: 'approved', state: STATES.scheduled },
  reject: { approval: 'rejected', state: STATES.canceled },
} as const;

const CLOSED_STATES: readonly string[] = [STATES.closed, STATES.canceled];

export function simulatorApi(store: ChangeStore, webhook: WebhookTarget, log: (message: string) => void): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', records: store.list().length });
  });

  router.get('/changes', (_req, res) => {
    res.json({ result: store.list() });
  });

  for (const action of ['approve', 'reject'] as const) {
    router.post(`/changes/:number/${action}`, async (req, res) => {
      const body: unknown = req.body;
      const { approver, comment, webhook: sendWebhook } = (typeof body === 'object' && body !== null ? body : {}) as { approver?: unknown; comment?: unknown; webhook?: unknown };
      if (typeof approver !== 'string' || !approver.trim()) {
        sendError(res, 400, 'Missing mandatory field', 'approver is required (JSON body {"approver": "...", "comment": "..."})');
        return;
      }
      if (sendWebhook !== undefined && typeof sendWebhook !== 'boolean') {
        sendError(res, 400, 'Invalid field value', 'webhook must be true or false (false: decide without calling the platform, as when a webhook is lost)');
        return;
      }
      if (comment !== undefined && comment !== null && typeof comment !== 'string') {
        sendError(res, 400, 'Invalid field value', 'comment must be a string');
        return;
      }
      const current = store.byNumber(req.params.number);
      if (!current) {
        sendError(res, 404, 'No Record found', `change ${req.params.number} does not exist`);
        return;
      }
      // A closed or cancelled change keeps approval 'requested' but can no longer be decided.
      if (current.approval !== 'requested' || CLOSED_STATES.includes(current.state)) {
        sendError(res, 409, 'Not awaiting approval', `change ${current.number} has approval "${current.approval}" and state ${current.state}; only a requested, open change can be decided`);
        return;
      }

      const decision = DECISIONS[action];
      const note = typeof comment === 'string' && comment.trim() ? comment : undefined;
      const change = store.update(current.sys_id, (c) => ({
        ...c,
        approval: decision.approval,
        state: decision.state,
        u_approved_by: approver,
        comments: note ? appendComment(c.comments, note) : c.comments,
        sys_updated_on: glideDateTime(new Date()),
      }));
      if (!change) {
        sendError(res, 404, 'No Record found', `change ${req.params.number} does not exist`);
        return;
      }
      log(`${change.number} ${decision.approval} by ${approver}`);

      if (sendWebhook === false) {
        log(`webhook for ${change.number} withheld on request (a lost webhook)`);
        res.json({ change, webhook: { status: null, withheld: true } });
        return;
      }
      const delivery = await sendDecisionWebhook(webhook, decisionBody(change, decision.approval, approver, note));
      if (delivery.error) log(`webhook for ${change.number} not delivered: ${delivery.error}`);
      else log(`webhook for ${change.number} delivered (HTTP ${delivery.status})`);
      res.json({ change, webhook: delivery });
    });
  }

  return router;
}
