/**
 * The embedded secret store: one file per secret under `<dataDir>/secrets/`, readable only by its
 * owner (0600). References look like `local-secret://ci-tokens/retail/shop`. A stand-in for Vault
 * or AWS Secrets Manager on a laptop, where such references would point instead.
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file';

const SCHEME = 'local-secret://';
const PATH = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;

export interface LocalSecretStore {
  write(path: string, value: string): Promise<string>;
  read(ref: string): Promise<string>;
  /** No-op when absent. */
  delete(ref: string): Promise<void>;
}

export function createLocalSecretStore(dataDir: string): LocalSecretStore {
  const fileOf = (pathOrRef: string): string => {
    const path = pathOrRef.startsWith(SCHEME) ? pathOrRef.slice(SCHEME.length) : pathOrRef;
    if (!PATH.test(path)) throw new Error(`secret path ${JSON.stringify(path)} must be lowercase segments separated by /`);
    return join(dataDir, 'secrets', `${path}.secret`);
  };
  return {
    async write(path, value) {
      await writeFileAtomic(fileOf(path), value, 0o600);
      return `${SCHEME}${path}`;
    },
    async read(ref) {
      return readFile(fileOf(ref), 'utf8');
    },
    async delete(ref) {
      await unlink(fileOf(ref)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
  };
}
