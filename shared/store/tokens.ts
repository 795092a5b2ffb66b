/** CI tokens the platform issued (landing zones): hashes and grants, never the tokens themselves. */
import type { CiTokenGrant, Role } from '../config';
import type { Db } from './database';

export interface IssuedToken {
  tokenHash: string;
  subject: string;
  projects: string[];
  roles: Role[];
  idempotencyKey: string;
  secretRef: string;
}

interface Row {
  token_hash: string;
  subject: string;
  projects: string;
  roles: string;
  idempotency_key: string;
  secret_ref: string;
}

const toToken = (row: Row): IssuedToken => ({
  tokenHash: row.token_hash,
  subject: row.subject,
  projects: JSON.parse(row.projects) as string[],
  roles: JSON.parse(row.roles) as Role[],
  idempotencyKey: row.idempotency_key,
  secretRef: row.secret_ref,
});

export class TokenRepository {
  constructor(private readonly db: Db) {}

  insert(token: IssuedToken): void {
    this.db
      .prepare('INSERT INTO ci_tokens (token_hash, subject, projects, roles, idempotency_key, secret_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(token.tokenHash, token.subject, JSON.stringify(token.projects), JSON.stringify(token.roles), token.idempotencyKey, token.secretRef, new Date().toISOString());
  }

  findByKey(idempotencyKey: string): IssuedToken | undefined {
    const row = this.db.prepare('SELECT * FROM ci_tokens WHERE idempotency_key = ? AND revoked_at IS NULL').get(idempotencyKey) as Row | undefined;
    return row ? toToken(row) : undefined;
  }

  /** The grant of an active token, for authentication. */
  grantFor(tokenHash: string): CiTokenGrant | undefined {
    const row = this.db.prepare('SELECT * FROM ci_tokens WHERE token_hash = ? AND revoked_at IS NULL').get(tokenHash) as Row | undefined;
    if (!row) return undefined;
    const token = toToken(row);
    return { subject: token.subject, projects: token.projects, roles: token.roles };
  }

  /** True when an active token was revoked. */
  revokeByKey(idempotencyKey: string): boolean {
    return this.db.prepare('UPDATE ci_tokens SET revoked_at = ? WHERE idempotency_key = ? AND revoked_at IS NULL').run(new Date().toISOString(), idempotencyKey).changes > 0;
  }
}
