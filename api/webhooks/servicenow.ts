/**
 * `POST /v1/webhooks/servicenow`: ServiceNow tells us a change was approved or rejected. The
 * signature is checked over the raw bytes BEFORE any parsing; a bad one never reaches a workflow.
 * The approver's identity comes from this verified call, never from a CI caller.
 */
import express, { Router } from 'express';
import { serviceNowWebhookSchema } from '../../shared/schemas/servicenow-webhook';
import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import type { Logger } from '../../shared/logger';
import type { DeploymentService } from '../deployments-service';
import { ConflictError, fieldErrors, InputError, NotAuthenticatedError, NotFoundError } from '../errors';

export interface ServiceNowWebhookDeps {
  secret: string;
  deployments: DeploymentService;
  logger: Logger;
  now?: () => number;
}

export function serviceNowWebhook({ secret, deployments, logger, now = Date.now }: ServiceNowWebhookDeps): Router {
  const router = Router();
  router.post('/', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const rawBody: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifyWebhookSignature({
      secret,
      rawBody,
      timestampHeader: req.get(TIMESTAMP_HEADER),
      signatureHeader: req.get(SIGNATURE_HEADER),
      nowSec: Math.floor(now() / 1000),
    });
    if (!verdict.ok) {
      logger.warn('webhook refused', { reason: verdict.reason, remote: req.ip });
      throw new NotAuthenticatedError(`webhook signature rejected: ${verdict.reason}`);
    }

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new InputError('the webhook body is not valid JSON', [{ field: '(body)', message: 'malformed JSON' }]);
    }
    const parsed = serviceNowWebhookSchema.safeParse(json);
    if (!parsed.success) throw new InputError('the webhook body is not a change decision', fieldErrors(parsed.error));
    const event = parsed.data;

    const run = await deployments.findByChangeNumber(event.number, event.correlation_id);
    if (!run) {
      throw new NotFoundError(`no platform run opened change ${event.number}`);
    }
    const status = await deployments.runStatus(run.workflowId, run.runId);
    if (!status) throw new NotFoundError(`no platform run opened change ${event.number}`);
    if (status !== 'awaiting_approval') {
      throw new ConflictError(`run ${run.workflowId} is not waiting for approval (status ${status})`, { runStatus: status });
    }
    await deployments.deliverApproval(run.workflowId, run.runId, {
      decision: event.approval,
      approver: event.approver,
      changeNumber: event.number,
      ...(event.comment ? { comment: event.comment } : {}),
    });
    logger.info('approval delivered', { change: event.number, decision: event.approval, approver: event.approver, deployment: run.workflowId });
    res.status(202).json({ deploymentId: run.workflowId, runId: run.runId, changeNumber: event.number, decision: event.approval });
  });
  return router;
}
