/**
 * Idempotency-Keys of deployment requests: the first request with a key claims it for its body,
 * atomically, so concurrent requests with one key agree on one body (and so on one run) whatever
 * their timing; the visibility store, which lags, cannot give that.
 */
import type { Db } from './database';

export interface KeyClaim {
  /** Fingerprint of the body the key belongs to. */
  fingerprint: string;
  /** The deployment id that body maps to. */
  workflowId: string;
  /** True when this call claimed the key; false when an earlier request had. */
  claimedNow: boolean;
}

interface Row {
  fingerprint: string;
  workflow_id: string;
}

export class IdempotencyRepository {
  constructor(private readonly db: Db) {}

  /** Claims `keyHash` for this body, or returns the earlier claim. One statement pair in one transaction. */
  claim(keyHash: string, fingerprint: string, workflowId: string): KeyClaim {
    return this.db.transaction((): KeyClaim => {
      const inserted = this.db
        .prepare('INSERT OR IGNORE INTO idempotency_keys (key_hash, fingerprint, workflow_id, created_at) VALUES (?, ?, ?, ?)')
        .run(keyHash, fingerprint, workflowId, new Date().toISOString()).changes;
      const row = this.db.prepare('SELECT fingerprint, workflow_id FROM idempotency_keys WHERE key_hash = ?').get(keyHash) as Row;
      return { fingerprint: row.fingerprint, workflowId: row.workflow_id, claimedNow: inserted > 0 };
    }).immediate();
  }
}
