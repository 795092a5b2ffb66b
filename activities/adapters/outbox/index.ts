/**
 * The embedded notifier: one JSON line per message appended to an outbox file (what an e-mail or
 * ServiceNow notification adapter would send), plus a one-line log entry without the body.
 * Idempotent by key across restarts: the file itself is the record of what was sent.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Notification, Notifier } from '../../ports/notifier';
import { withProcessMutex } from '../gitops/lock';

export interface OutboxNotifierOptions {
  outboxFile: string;
  log?: (line: string) => void;
}

interface OutboxEntry extends Notification {
  messageId: string;
  sentAt: string;
}

export function createOutboxNotifier({ outboxFile, log }: OutboxNotifierOptions): Notifier {
  const sentWith = async (key: string): Promise<OutboxEntry | undefined> => {
    let text: string;
    try {
      text = await readFile(outboxFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as OutboxEntry;
      if (entry.idempotencyKey === key) return entry;
    }
    return undefined;
  };

  return {
    notify(notification) {
      // One writer at a time per file, so a check-then-append cannot send twice.
      return withProcessMutex(`outbox:${outboxFile}`, async () => {
        const previous = await sentWith(notification.idempotencyKey);
        if (previous) return { messageId: previous.messageId, delivered: true };
        const messageId = createHash('sha256').update(notification.idempotencyKey).digest('hex').slice(0, 24);
        const entry: OutboxEntry = { ...notification, messageId, sentAt: new Date().toISOString() };
        await mkdir(dirname(outboxFile), { recursive: true });
        await appendFile(outboxFile, `${JSON.stringify(entry)}\n`);
        log?.(`notification ${messageId} to ${notification.to.join(', ')}: ${notification.subject}`);
        return { messageId, delivered: true };
      });
    },
  };
}
