/**
 * ImageRegistry backed by Amazon ECR. A repository records which run created it in a tag, so
 * ensuring it again after a crash (same idempotency key) reports `created: true`, a repository
 * that was there before reports `created: false`, and an undo (`onlyIfCreatedBy`) deletes only
 * what its own run created.
 */
import { createHash } from 'node:crypto';
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  TagResourceCommand,
  type ECRClient,
  type Repository,
  type Tag,
} from '@aws-sdk/client-ecr';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import type { EnsureRepositoryRequest, ImageRegistry } from '../../ports/image-registry';
import { configurationInvalid, ecrErrorName, EcrUnavailableError, translateEcrError, type EcrCall } from './client';

export const CREATED_BY_TAG = 'deploy-platform/created-by';

export interface EcrImageRegistryOptions {
  client: ECRClient;
  /** The account whose registry holds the repositories; the caller's own when omitted. */
  registryId?: string;
  /** A KMS key (ARN or alias) to encrypt new repositories with; AES256 when omitted. */
  kmsKey?: string;
}

/** "Keep the last N images" as an ECR lifecycle policy: everything older expires, tagged or not. */
export function lifecyclePolicyText(keepLastImages: number): string {
  if (!Number.isInteger(keepLastImages) || keepLastImages < 1) {
    throw configurationInvalid(`lifecyclePolicy.keepLastImages must be a whole number of at least 1, not ${keepLastImages}`);
  }
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `keep the last ${keepLastImages} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keepLastImages },
        action: { type: 'expire' },
      },
    ],
  });
}

/** ECR tag values: at most 256 of these characters. Other keys are stored as their hash. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export function createdByValue(idempotencyKey: string): string {
  return TAG_VALUE.test(idempotencyKey) ? idempotencyKey : `sha256:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

/** An ECR error the caller anticipated (e.g. RepositoryAlreadyExistsException), by name. */
class Expected {
  constructor(readonly name: string) {}
}

/** A described repository with the two fields ECR always returns and the adapter relies on. */
type Described = Repository & { repositoryArn: string; repositoryUri: string };

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function createEcrImageRegistry({ client, registryId, kmsKey }: EcrImageRegistryOptions): ImageRegistry {
  const registry = registryId ? { registryId } : {};

  /** Sends one ECR command; its failure is translated for Temporal. */
  const call = async <T>(what: EcrCall, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw translateEcrError(error, what);
    }
  };
  /** The same, but a failure named in `expected` comes back as an Expected for the caller to handle. */
  const callExpecting = async <T>(what: EcrCall, send: () => Promise<T>, expected: readonly string[]): Promise<T | Expected> => {
    try {
      return await send();
    } catch (error) {
      const name = ecrErrorName(error);
      if (name && expected.includes(name)) return new Expected(name);
      throw translateEcrError(error, what);
    }
  };

  /** The repository, or undefined when ECR has none by that name. */
  const find = async (name: string): Promise<Described | undefined> => {
    const what = { action: 'DescribeRepositories', subject: `repository ${name}` };
    const result = await callExpecting(what, () => client.send(new DescribeRepositoriesCommand({ ...registry, repositoryNames: [name] })), ['RepositoryNotFoundException']);
    const repository = result instanceof Expected ? undefined : result.repositories?.[0];
    if (!repository) return undefined;
    const { repositoryArn, repositoryUri } = repository;
    if (!repositoryArn || !repositoryUri) throw new EcrUnavailableError(`ECR described repository ${name} without its ARN or URI`);
    return { ...repository, repositoryArn, repositoryUri };
  };

  const tagsOf = async (repository: Described, name: string): Promise<Record<string, string>> => {
    const what = { action: 'ListTagsForResource', subject: `repository ${name}` };
    const result = await call(what, () => client.send(new ListTagsForResourceCommand({ resourceArn: repository.repositoryArn })));
    return Object.fromEntries((result.tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])));
  };

  /** Brings a repository the platform created to the requested settings (only what differs). */
  const converge = async (repository: Described, current: Record<string, string>, request: EnsureRepositoryRequest): Promise<void> => {
    const name = request.name;
    const mutability = request.immutableTags ? 'IMMUTABLE' : 'MUTABLE';
    if (repository.imageTagMutability !== mutability) {
      await call({ action: 'PutImageTagMutability', subject: `repository ${name}` }, () =>
        client.send(new PutImageTagMutabilityCommand({ ...registry, repositoryName: name, imageTagMutability: mutability })),
      );
    }
    if ((repository.imageScanningConfiguration?.scanOnPush ?? false) !== request.scanOnPush) {
      await call({ action: 'PutImageScanningConfiguration', subject: `repository ${name}` }, () =>
        client.send(new PutImageScanningConfigurationCommand({ ...registry, repositoryName: name, imageScanningConfiguration: { scanOnPush: request.scanOnPush } })),
      );
    }
    const missing = Object.entries(request.tags).filter(([key, value]) => key !== CREATED_BY_TAG && current[key] !== value);
    if (missing.length > 0) {
      await call({ action: 'TagResource', subject: `repository ${name}` }, () =>
        client.send(new TagResourceCommand({ resourceArn: repository.repositoryArn, tags: tagList(Object.fromEntries(missing)) })),
      );
    }
    // Encryption cannot change after creation; a repository keeps the encryption it was made with.
  };

  /** PUT replaces the whole policy and is idempotent, so it is simply sent again on every ensure. */
  const putLifecycle = async (name: string, policy: string | undefined): Promise<void> => {
    if (!policy) return;
    await call({ action: 'PutLifecyclePolicy', subject: `repository ${name}` }, () =>
      client.send(new PutLifecyclePolicyCommand({ ...registry, repositoryName: name, lifecyclePolicyText: policy })),
    );
  };

  /** Distinct digests (ListImages lists a digest once per tag), over every page. */
  const countImages = async (name: string): Promise<number | undefined> => {
    const digests = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await callExpecting(
        { action: 'ListImages', subject: `repository ${name}` },
        () => client.send(new ListImagesCommand({ ...registry, repositoryName: name, maxResults: 1000, ...(nextToken ? { nextToken } : {}) })),
        ['RepositoryNotFoundException'],
      );
      if (page instanceof Expected) return undefined;
      for (const id of page.imageIds ?? []) digests.add(id.imageDigest ?? id.imageTag ?? '');
      nextToken = page.nextToken;
    } while (nextToken);
    return digests.size;
  };

  return {
    async ensureRepository(request: EnsureRepositoryRequest) {
      const { name } = request;
      const policy = request.lifecyclePolicy ? lifecyclePolicyText(request.lifecyclePolicy.keepLastImages) : undefined; // validate before any side effect
      const createdBy = createdByValue(request.idempotencyKey);
      const tags = { ...Object.fromEntries(Object.entries(request.tags).filter(([key]) => key !== CREATED_BY_TAG)), [CREATED_BY_TAG]: createdBy };

      const created = await callExpecting(
        { action: 'CreateRepository', subject: `repository ${name}` },
        () =>
          client.send(
            new CreateRepositoryCommand({
              ...registry,
              repositoryName: name,
              imageTagMutability: request.immutableTags ? 'IMMUTABLE' : 'MUTABLE',
              imageScanningConfiguration: { scanOnPush: request.scanOnPush },
              encryptionConfiguration: kmsKey ? { encryptionType: 'KMS', kmsKey } : { encryptionType: 'AES256' },
              tags: tagList(tags),
            }),
          ),
        ['RepositoryAlreadyExistsException'],
      );
      if (!(created instanceof Expected)) {
        const uri = created.repository?.repositoryUri;
        if (!uri) throw new EcrUnavailableError(`ECR created repository ${name} but returned no URI`);
        await putLifecycle(name, policy);
        return { name, uri, created: true };
      }

      const repository = await find(name);
      // Deleted between CreateRepository saying it exists and now: the next attempt creates it.
      if (!repository) throw new EcrUnavailableError(`repository ${name} exists in ECR but could not be described`);
      const current = await tagsOf(repository, name);
      const uri = repository.repositoryUri;
      // Made by someone else (by hand, by Terraform): adopted as it is, never reconfigured, since
      // a lifecycle policy we put there could expire images its owner relies on.
      if (current[CREATED_BY_TAG] === undefined) return { name, uri, created: false };
      // The platform's own (this run's after a crash, or an earlier run's): make sure it is as asked.
      await converge(repository, current, request);
      await putLifecycle(name, policy);
      return { name, uri, created: current[CREATED_BY_TAG] === createdBy };
    },

    async deleteRepository({ name, force, onlyIfCreatedBy }) {
      if (onlyIfCreatedBy !== undefined) {
        // An undo: a repository that existed before the run (another creator, or none) is not its to delete.
        const repository = await find(name);
        if (!repository) return { deleted: false };
        const tags = await tagsOf(repository, name);
        if (tags[CREATED_BY_TAG] !== createdByValue(onlyIfCreatedBy)) return { deleted: false };
      }
      const deleted = await callExpecting(
        { action: 'DeleteRepository', subject: `repository ${name}` },
        () => client.send(new DeleteRepositoryCommand({ ...registry, repositoryName: name, force })),
        ['RepositoryNotFoundException', 'RepositoryNotEmptyException'],
      );
      if (!(deleted instanceof Expected)) return { deleted: true };
      if (deleted.name === 'RepositoryNotFoundException') return { deleted: false };
      // ECR refuses atomically, so an image pushed after any check of ours cannot be lost.
      const count = await countImages(name);
      throw ApplicationFailure.create({
        type: ErrorType.ResourceConflict,
        nonRetryable: true,
        message: `repository ${name} still holds ${count === undefined ? 'images' : `${count} image${count === 1 ? '' : 's'}`}; delete with force to remove them`,
      });
    },
  };
}
