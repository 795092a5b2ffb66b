/**
 * Issues the CI token a new project's pipelines use. The token value goes only into a secret
 * store; callers get its reference, so it never enters workflow history or logs.
 */
export interface CredentialIssuer {
  /** Idempotent by key: a retry returns the same reference and issues no second token. */
  issueProjectToken(request: { tenant: string; project: string; idempotencyKey: string }): Promise<{ subject: string; secretRef: string }>;
  /** Revokes the token issued under the key and deletes its secret; no-op when none was issued. */
  revokeProjectToken(request: { idempotencyKey: string }): Promise<{ revoked: boolean }>;
}
