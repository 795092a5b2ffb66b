import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Development credentials for the embedded default: generated once per data directory so a
 * laptop needs no setup, and stable across restarts so tokens in a developer's shell keep working.
 * Never used with NODE_ENV=production.
 */
const devSecretsSchema = z.object({
  ciToken: z.string().min(32),
  webhookSecret: z.string().min(32),
  servicenowPassword: z.string().min(16),
});
export type DevSecrets = z.infer<typeof devSecretsSchema>;

export function devSecretsPath(dataDir: string): string {
  return join(dataDir, 'dev-secrets.json');
}

export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const path = devSecretsPath(dataDir);
  try {
    return devSecretsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read development secrets ${path}: ${(error as Error).message}; delete it to regenerate`);
    }
  }
  const secrets: DevSecrets = {
    ciToken: `dev-ci-${randomBytes(24).toString('base64url')}`,
    webhookSecret: randomBytes(32).toString('base64url'),
    servicenowPassword: randomBytes(18).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': when two processes start at once, exactly one writes and the other reads its file.
    writeFileSync(path, JSON.stringify(secrets, null, 2), { flag: 'wx', mode: 0o600 });
    return secrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateDevSecrets(dataDir);
    throw error;
  }
}

/**
 * The development payload key, in its own file: it is created with 'wx' on its own, so data
 * directories made before payloads were encrypted get one without rewriting their secrets file,
 * and two processes starting at once still end up with the same key.
 */
export function loadOrCreateDevPayloadKey(dataDir: string): Buffer {
  const path = join(dataDir, 'dev-payload-key');
  try {
    return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return loadOrCreateDevPayloadKey(dataDir);
}
