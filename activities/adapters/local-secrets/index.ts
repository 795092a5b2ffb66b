/**
 * Issues a project's CI token: the token's sha256 and grant go into the platform store (so the API
 * accepts it at once), the token itself into the secret store; callers get only its reference.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../../../shared/config';
import type { TokenRepository } from '../../../shared/store';
import type { CredentialIssuer } from '../../ports/credentials';
import type { LocalSecretStore } from './secret-store';

export { createLocalSecretStore, type LocalSecretStore } from './secret-store';

export function createLocalCredentialIssuer({ tokens, secrets }: { tokens: TokenRepository; secrets: LocalSecretStore }): CredentialIssuer {
  return {
    async issueProjectToken({ tenant, project, idempotencyKey }) {
      const existing = tokens.findByKey(idempotencyKey);
      if (existing) return { subject: existing.subject, secretRef: existing.secretRef };
      // Secret first, record second: a crash in between leaves an unreferenced secret that the
      // retry overwrites, never a token the API accepts but nobody can read.
      const token = `ci-${project}-${randomBytes(24).toString('base64url')}`;
      const secretRef = await secrets.write(`ci-tokens/${tenant}/${project}`, token);
      const subject = `ci-${project}`;
      tokens.insert({ tokenHash: hashToken(token), subject, projects: [project], roles: [], idempotencyKey, secretRef });
      return { subject, secretRef };
    },

    async revokeProjectToken({ idempotencyKey }) {
      const existing = tokens.findByKey(idempotencyKey);
      if (!existing) return { revoked: false };
      tokens.revokeByKey(idempotencyKey);
      await secrets.delete(existing.secretRef);
      return { revoked: true };
    },
  };
}
