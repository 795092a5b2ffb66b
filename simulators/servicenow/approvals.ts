/**
 * `/sim/...`: what a person does in ServiceNow's UI. Unauthenticated on purpose: the simulator is a
 * development tool, and these routes stand in for an approver clicking Approve or Reject (and for
 * the instance retrying a webhook).
 */
import express, { Router, type Response } from 'express';
import type { SimApproval } from './approval-records';
import { decide, type DecisionAction, type DecisionInput } from './decisions';
import { sendError } from './http-errors';
import type { SimChange } from './records';
import type { ChangeStore } from './store';
import { decisionBody, sendDecisionWebhook, type DecisionWebhookBody, type WebhookDelivery, type WebhookTarget } from './webhook';

export interface SimulatorApiOptions {
  webhook: WebhookTarget;
  /** Distinct approvals that make the change approved (the instance's approval rule). */
  approvalsRequired: number;
}

type DecisionRequest = { ok: true; input: DecisionInput; sendWebhook: boolean } | { ok: false; message: string; detail: string };

/** Set and non-blank, or absent (undefined or null); anything else is refused. */
function optionalText(value: unknown): { ok: true; text: string | undefined } | { ok: false } {
  if (value === undefined || value === null) return { ok: true, text: undefined };
  return typeof value === 'string' ? { ok: true, text: value.trim() ? value : undefined } : { ok: false };
}

function readDecision(action: DecisionAction, body: unknown): DecisionRequest {
  const { approver, group, comment, webhook } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof approver !== 'string' || !approver.trim()) {
    return { ok: false, message: 'Missing mandatory field', detail: 'approver is required (JSON body {"approver": "...", "group": "...", "comment": "..."})' };
  }
  if (webhook !== undefined && typeof webhook !== 'boolean') {
    return { ok: false, message: 'Invalid field value', detail: 'webhook must be true or false (false: decide without calling the platform, as when a webhook is lost)' };
  }
  const note = optionalText(comment);
  if (!note.ok) return { ok: false, message: 'Invalid field value', detail: 'comment must be a string' };
  const groupName = optionalText(group);
  if (!groupName.ok || (group !== undefined && group !== null && groupName.text === undefined)) {
    return { ok: false, message: 'Invalid field value', detail: 'group must be a non-empty string (the approval group; the change\'s assignment group by default)' };
  }
  const input: DecisionInput = { action, approver, ...(groupName.text ? { group: groupName.text } : {}), ...(note.text ? { comment: note.text } : {}) };
  return { ok: true, input, sendWebhook: webhook !== false };
}

export function simulatorApi(store: ChangeStore, options: SimulatorApiOptions, log: (message: string) => void): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));
  /**
   * The last decision webhook per change (by sys_id), for /redeliver. In memory: a restarted
   * simulator has no retries pending, as an instance's outbound queue would not either.
   */
  const lastWebhook = new Map<string, DecisionWebhookBody>();

  const deliver = async (body: DecisionWebhookBody, what: string): Promise<WebhookDelivery> => {
    const delivery = await sendDecisionWebhook(options.webhook, body);
    if (delivery.error) log(`${what} for ${body.number} not delivered: ${delivery.error}`);
    else log(`${what} for ${body.number} delivered (HTTP ${delivery.status})`);
    return delivery;
  };

  /** Records a decision the rule accepted and tells the platform (unless withheld). */
  const announce = async (res: Response, change: SimChange, approval: SimApproval, sendWebhook: boolean, comment: string | undefined): Promise<void> => {
    const state = approval.state === 'rejected' ? 'rejected' : 'approved';
    const body = decisionBody(change, state, approval.approver, approval.group, comment);
    // A withheld webhook is one the platform never got: a redelivery is the instance's retry of it.
    lastWebhook.set(change.sys_id, body);
    if (!sendWebhook) {
      log(`webhook for ${change.number} withheld on request (a lost webhook)`);
      res.json({ change, approval, webhook: { status: null, withheld: true } });
      return;
    }
    res.json({ change, approval, webhook: await deliver(body, 'webhook') });
  };

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', records: store.list().length, approvals: store.approvals().length });
  });

  router.get('/changes', (_req, res) => {
    res.json({ result: store.list() });
  });

  for (const action of ['approve', 'reject'] as const) {
    router.post(`/changes/:number/${action}`, async (req, res) => {
      const request = readDecision(action, req.body);
      if (!request.ok) {
        sendError(res, 400, request.message, request.detail);
        return;
      }
      const current = store.byNumber(req.params.number);
      if (!current) {
        sendError(res, 404, 'No Record found', `change ${req.params.number} does not exist`);
        return;
      }
      const decided = decide(current, store.approvals(current.sys_id), request.input, options.approvalsRequired, new Date());
      if (decided.outcome === 'refused') {
        sendError(res, 409, 'Not awaiting approval', decided.reason);
        return;
      }
      if (decided.outcome === 'unchanged') {
        log(`${current.number}: ${request.input.approver} had already ${decided.approval.state} it; nothing changed`);
        res.json({ change: current, approval: decided.approval, webhook: { status: null, unchanged: true } });
        return;
      }
      if (!store.saveDecision(decided.change, decided.approval)) {
        sendError(res, 404, 'No Record found', `change ${req.params.number} does not exist`);
        return;
      }
      log(`${current.number}: ${decided.approval.state} by ${decided.approval.approver} (${decided.approval.group}); change approval ${decided.change.approval}`);
      await announce(res, decided.change, decided.approval, request.sendWebhook, request.input.comment);
    });
  }

  router.post('/changes/:number/redeliver', async (req, res) => {
    const change = store.byNumber(req.params.number);
    const body = change && lastWebhook.get(change.sys_id);
    if (!body) {
      sendError(res, 404, 'No Record found', change ? `change ${change.number} has no decision webhook to redeliver` : `change ${req.params.number} does not exist`);
      return;
    }
    res.json({ webhook: await deliver(body, 'redelivered webhook') });
  });

  return router;
}
