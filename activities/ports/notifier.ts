/** Tells people something happened: e-mail or ServiceNow later, an outbox file by default. */
export interface Notification {
  to: string[];
  group?: string;
  subject: string;
  /** Plain text; never put secrets in it (it is stored and logged as an outbox entry). */
  body: string;
  links: { label: string; url: string }[];
  /** Notifying twice with the same key sends once. */
  idempotencyKey: string;
}

export interface Notifier {
  notify(notification: Notification): Promise<{ messageId: string; delivered: boolean }>;
}
