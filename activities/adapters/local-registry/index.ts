/**
 * The embedded image registry: a JSON record per repository under `<dataDir>/registry/`. It is a
 * RECORD ONLY — no image is stored or served; it keeps what a real registry (Amazon ECR, behind
 * the same port later) would be asked to create: name, immutable tags, scan on push, lifecycle.
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import type { EnsureRepositoryRequest, ImageRegistry } from '../../ports/image-registry';
import { writeFileAtomic } from '../atomic-file';

export interface LocalImageRegistryOptions {
  dataDir: string;
  registryHost?: string;
}

interface RepositoryRecord {
  name: string;
  uri: string;
  immutableTags: boolean;
  scanOnPush: boolean;
  lifecyclePolicy?: { keepLastImages: number };
  tags: Record<string, string>;
  createdBy: string;
  createdAt: string;
  /** Digests pushed so far; always empty in the embedded default, which stores no images. */
  images: string[];
}

const NAME = /^[a-z][-a-z0-9]*\/[a-z][-a-z0-9]*$/;

export function createLocalImageRegistry({ dataDir, registryHost = 'registry.localhost' }: LocalImageRegistryOptions): ImageRegistry {
  const pathOf = (name: string): string => {
    if (!NAME.test(name)) {
      throw ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message: `repository name ${JSON.stringify(name)} must be <tenant>/<project>` });
    }
    return join(dataDir, 'registry', `${name}.json`);
  };
  const read = async (name: string): Promise<RepositoryRecord | undefined> => {
    try {
      return JSON.parse(await readFile(pathOf(name), 'utf8')) as RepositoryRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };

  return {
    async ensureRepository(request: EnsureRepositoryRequest) {
      const existing = await read(request.name);
      if (existing) return { name: existing.name, uri: existing.uri, created: existing.createdBy === request.idempotencyKey };
      const record: RepositoryRecord = {
        name: request.name,
        uri: `${registryHost}/${request.name}`,
        immutableTags: request.immutableTags,
        scanOnPush: request.scanOnPush,
        ...(request.lifecyclePolicy ? { lifecyclePolicy: request.lifecyclePolicy } : {}),
        tags: request.tags,
        createdBy: request.idempotencyKey,
        createdAt: new Date().toISOString(),
        images: [],
      };
      await writeFileAtomic(pathOf(request.name), `${JSON.stringify(record, null, 2)}\n`);
      return { name: record.name, uri: record.uri, created: true };
    },

    async deleteRepository({ name, force, onlyIfCreatedBy }) {
      const existing = await read(name);
      if (!existing) return { deleted: false };
      if (onlyIfCreatedBy !== undefined && existing.createdBy !== onlyIfCreatedBy) return { deleted: false };
      if (existing.images.length > 0 && !force) {
        throw ApplicationFailure.create({
          type: ErrorType.ResourceConflict,
          nonRetryable: true,
          message: `repository ${name} still holds ${existing.images.length} images; delete with force to remove them`,
        });
      }
      await unlink(pathOf(name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return { deleted: true };
    },
  };
}
