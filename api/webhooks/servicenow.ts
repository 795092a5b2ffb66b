/**
 * `POST /v1/webhooks/servicenow`: ServiceNow tells us an approver decided. The signature is checked
 * over the raw bytes BEFORE any parsing; a bad one never reaches a workflow. Even a verified call
 * is only a report: the run reads the change in ServiceNow and answers with its own verdict,
 * which becomes the HTTP answer:
 *   202 applied (ServiceNow confirms it; the run proceeds) or queued (no worker answered in time)
 *   200 a redelivery of a decision already applied (same outcome)
 *   404 no platform run owns the change
 *   409 the run is not waiting for a decision (or decided differently)
 *   422 the run refused it (ServiceNow does not record it, or it breaks the approver rules)
 * Approver names and comments are never logged.
 */
import express, { Router, type Request, type Response } from 'express';
import { DecisionRejection, runStatusQuery } from '../../shared/contracts/run';
import type { Logger } from '../../shared/logger';
import { serviceNowWebhookSchema, type ServiceNowWebhook } from '../../shared/schemas/servicenow-webhook';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../shared/webhook-signature';
import type { DecisionDelivery, TemporalRuns } from '../temporal-runs';
import { ConflictError, fieldErrors, InputError, NotAuthenticatedError, NotFoundError, UnprocessableError } from '../errors';
import type { Audit, AuditNote } from '../audit';
import { enforce, type TokenBuckets } from '../rate-limit';

/** The actor the audit log names for decisions ServiceNow reports. */
export const WEBHOOK_ACTOR = 'servicenow-webhook';

export interface ServiceNowWebhookDeps {
  /** The current secret first; a previous one stays valid while ServiceNow is rotated to the new one. */
  secrets: readonly string[];
  runs: TemporalRuns;
  logger: Logger;
  now?: () => number;
  audit: Audit;
  /** The webhook's own bucket (WEBHOOK_RATE_LIMIT_*), taken by verified calls only; none when off. */
  limit?: TokenBuckets;
}

interface Answered {
  status: number;
  body: Record<string, unknown>;
}

/** A run that has ended answers a redelivery of the decision it acted on with that same outcome. */
async function answerForEndedRun(runs: TemporalRuns, run: { workflowId: string; runId: string }, event: ServiceNowWebhook): Promise<Answered> {
  const snapshot = await runs.snapshot(run.workflowId, runStatusQuery, { runId: run.runId }).catch(() => undefined);
  const decided = snapshot?.view?.approval.decision;
  if (decided === event.approval) return { status: 200, body: { outcome: 'duplicate', decision: decided, runStatus: snapshot?.status } };
  throw new ConflictError(`run ${run.workflowId} has ended (status ${snapshot?.status ?? 'unknown'}); it no longer takes decisions`, { runStatus: snapshot?.status });
}

function toAnswer(delivery: Exclude<DecisionDelivery, { kind: 'closed' }>, run: { workflowId: string }): Answered {
  switch (delivery.kind) {
    case 'queued':
      return { status: 202, body: { outcome: 'queued', detail: 'no worker answered in time; the run will check the decision in ServiceNow when it resumes' } };
    case 'not-accepted':
      if (delivery.type === DecisionRejection.NotAwaited) throw new ConflictError(`run ${run.workflowId} did not take the decision: ${delivery.message}`);
      throw new UnprocessableError(`run ${run.workflowId} did not take the decision: ${delivery.message}`);
    case 'answered': {
      const { answer } = delivery;
      if (answer.outcome === 'refused') throw new UnprocessableError(`run ${run.workflowId} refused the decision: ${answer.reason ?? 'not confirmed in ServiceNow'}`);
      return { status: answer.outcome === 'duplicate' ? 200 : 202, body: { outcome: answer.outcome, decision: answer.decision } };
    }
  }
}

/** The decision in a webhook call, once its signature over the raw bytes checks out; 401/400 otherwise. */
function verifiedEvent(req: Request, { secrets, logger, now = Date.now }: Pick<ServiceNowWebhookDeps, 'secrets' | 'logger' | 'now'>): ServiceNowWebhook {
  const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const verdict = verifyWebhookSignature({
    secret: secrets,
    rawBody,
    timestampHeader: req.get(TIMESTAMP_HEADER),
    signatureHeader: req.get(SIGNATURE_HEADER),
    nowSec: Math.floor(now() / 1000),
  });
  if (!verdict.ok) {
    logger.warn('webhook refused', { reason: verdict.reason, remote: req.ip });
    throw new NotAuthenticatedError(`webhook signature rejected: ${verdict.reason}`);
  }
  if (verdict.secretIndex > 0) logger.info('webhook signed with the previous secret; finish rotating ServiceNow to the new one');
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new InputError('the webhook body is not valid JSON', [{ field: '(body)', message: 'malformed JSON' }]);
  }
  const parsed = serviceNowWebhookSchema.safeParse(json);
  if (!parsed.success) throw new InputError('the webhook body is not a change decision', fieldErrors(parsed.error));
  return parsed.data;
}

export function serviceNowWebhook(deps: ServiceNowWebhookDeps): Router {
  const { runs, logger, audit } = deps;
  const router = Router();
  const deliver = async (event: ServiceNowWebhook, note: AuditNote, res: Response): Promise<void> => {
    const delivery = { change: event.number, eventId: event.event_id, decision: event.approval };
    const run = await runs.findByChangeNumber(event.number, event.correlation_id);
    if (!run) {
      logger.warn('webhook for a change no platform run owns', delivery);
      throw new NotFoundError(`no platform run opened change ${event.number}${event.correlation_id ? ` with correlation id ${event.correlation_id}` : ''}; the decision was not delivered`);
    }
    note.run(run.workflowId, run.runId);
    const project = /^(?:deploy|landing-zone|landing-zone-operation)\.([a-z][-a-z0-9]*)/.exec(run.workflowId)?.[1];
    if (project) note.target({ project });
    const result = await runs.deliverDecision(run.workflowId, run.runId, {
      decision: event.approval,
      approver: event.approver,
      changeNumber: event.number,
      ...(event.comment ? { comment: event.comment } : {}),
      ...(event.event_id ? { eventId: event.event_id } : {}),
    });
    const verdict = async (): Promise<Answered> => (result.kind === 'closed' ? answerForEndedRun(runs, run, event) : toAnswer(result, run));
    const answered = await verdict().catch((error: unknown) => {
      logger.warn('decision not taken by the run', { ...delivery, run: run.workflowId, status: (error as { status?: number }).status });
      throw error;
    });
    logger.info('decision delivered', { ...delivery, run: run.workflowId, outcome: answered.body.outcome });
    if (answered.body.outcome === 'duplicate') note.duplicate();
    res.status(answered.status).json({ deploymentId: run.workflowId, runId: run.runId, changeNumber: event.number, eventId: event.event_id, ...answered.body });
  };

  router.post('/', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const event = verifiedEvent(req, deps);
    // Only verified calls count against the webhook's limit: forged ones cannot use up ServiceNow's.
    enforce(deps.limit, WEBHOOK_ACTOR, res, 'the ServiceNow webhook');
    await audit.action(req, res, 'approval.decision', { changeNumber: event.number }, (note) => deliver(event, note, res), { actor: WEBHOOK_ACTOR, channel: 'webhook' });
  });

  return router;
}
