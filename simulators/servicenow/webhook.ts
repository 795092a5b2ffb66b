/**
 * The call a ServiceNow Business Rule makes when an approver decides: a JSON body signed with the
 * shared secret. A failed call is reported to the caller, never thrown: the decision is already
 * recorded, and the platform can still learn it by polling the change.
 */
import { randomUUID } from 'node:crypto';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import type { SimChange } from './records';

export interface WebhookTarget {
  url: string;
  /** Secret. */
  secret: string;
}

/** What the platform's `POST /v1/webhooks/servicenow` receives. `comment` is left out when empty. */
export interface DecisionWebhookBody {
  number: string;
  sys_id: string;
  correlation_id: string;
  /** This approver's decision, which may differ from the change's own `approval`. */
  approval: 'approved' | 'rejected';
  approver: string;
  /** The approval group the approver decided for. */
  group: string;
  comment?: string;
  /** Unique per decision; a redelivery repeats it, so receivers can deduplicate. */
  event_id: string;
}

export interface WebhookDelivery {
  status: number | null;
  error?: string;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export function decisionBody(change: SimChange, approval: 'approved' | 'rejected', approver: string, group: string, comment: string | undefined): DecisionWebhookBody {
  return {
    number: change.number,
    sys_id: change.sys_id,
    correlation_id: change.correlation_id,
    approval,
    approver,
    group,
    ...(comment ? { comment } : {}),
    event_id: randomUUID(),
  };
}

/** Signs afresh on every call: a redelivery carries the same body under a new timestamp. */
export async function sendDecisionWebhook(target: WebhookTarget, body: DecisionWebhookBody, now: () => number = Date.now): Promise<WebhookDelivery> {
  // Sign exactly the bytes that are sent: the receiver verifies the raw body.
  const raw = JSON.stringify(body);
  const signed = signWebhook(target.secret, raw, Math.floor(now() / 1000));
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ServiceNow-Simulator',
        [TIMESTAMP_HEADER]: signed.timestamp,
        [SIGNATURE_HEADER]: signed.signature,
      },
      body: raw,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const text = await response.text().catch(() => '');
    if (response.ok) return { status: response.status };
    return { status: response.status, error: `the platform answered HTTP ${response.status}: ${text.replace(/\s+/g, ' ').trim().slice(0, 300)}` };
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${WEBHOOK_TIMEOUT_MS} ms`
      : error instanceof Error && error.cause instanceof Error
        ? error.cause.message
        : error instanceof Error
          ? error.message
          : String(error);
    return { status: null, error: `webhook to ${target.url} failed: ${reason}` };
  }
}
