/**
 * The ECR image registry against a real moto_server, and against recorded ECR responses for the
 * failures moto does not produce (access denied, throttling, 5xx, a refused connection).
 * Run: npx tsx --test test/aws/ecr-registry.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  PutImageTagMutabilityCommand,
  type ECRClient,
  type Repository,
} from '@aws-sdk/client-ecr';
import { ApplicationFailure } from '@temporalio/common';
import { EcrUnavailableError, translateEcrError } from '../../activities/adapters/ecr/client';
import { CREATED_BY_TAG, createdByValue, createEcrImageRegistry } from '../../activities/adapters/ecr/registry';
import type { EnsureRepositoryRequest } from '../../activities/ports/image-registry';
import { ErrorType } from '../../shared/errors';
import { ecrError, failureOf, MOTO_ACCOUNT, recordedEcrClient, seedImage, startMoto, type MotoServer } from './moto';

const NAME = 'retail/demo';
const KEY = 'landing-zone.demo/5f0c7d4e-run-1/imageRepository';

/** What the landing-zone activity asks for (activities/landing-zone.ts). */
function request(overrides: Partial<EnsureRepositoryRequest> = {}): EnsureRepositoryRequest {
  return {
    name: NAME,
    immutableTags: true,
    scanOnPush: true,
    lifecyclePolicy: { keepLastImages: 100 },
    tags: { tenant: 'retail', project: 'demo', 'managed-by': 'deploy-platform' },
    idempotencyKey: KEY,
    ...overrides,
  };
}

describe('ECR image registry against moto', () => {
  let moto: MotoServer;
  let client: ECRClient;

  before(async () => {
    moto = await startMoto();
    client = moto.ecrClient({ maxAttempts: 1 });
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(() => moto.reset());

  const describeRepository = async (name = NAME): Promise<Repository> => {
    const { repositories } = await client.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    return repositories?.[0] ?? assert.fail(`${name} not found`);
  };
  const tagsOf = async (name = NAME): Promise<Record<string, string>> => {
    const { tags } = await client.send(new ListTagsForResourceCommand({ resourceArn: (await describeRepository(name)).repositoryArn }));
    return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  };
  const lifecycleOf = async (name = NAME): Promise<unknown> => {
    const policy = await client.send(new GetLifecyclePolicyCommand({ repositoryName: name })).catch((error: Error) => (error.name === 'LifecyclePolicyNotFoundException' ? undefined : Promise.reject(error)));
    return policy?.lifecyclePolicyText ? JSON.parse(policy.lifecyclePolicyText) : undefined;
  };

  it('when a repository is ensured for the first time, then it is created with the asked settings, tags and lifecycle policy, and its ECR URI is returned', async () => {
    const result = await createEcrImageRegistry({ client }).ensureRepository(request());
    assert.deepEqual(result, { name: NAME, uri: `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${NAME}`, created: true });

    const repository = await describeRepository();
    assert.equal(repository.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(repository.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repository.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.deepEqual(await tagsOf(), { tenant: 'retail', project: 'demo', 'managed-by': 'deploy-platform', [CREATED_BY_TAG]: KEY });
    assert.deepEqual(await lifecycleOf(), {
      rules: [{ rulePriority: 1, description: 'keep the last 100 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 }, action: { type: 'expire' } }],
    });
  });

  it('when the repository has immutable tags, then pushing another image with an existing tag is refused, and with mutable tags it is not', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    await seedImage(client, NAME, '1.0.0');
    const error = await failureOf(seedImage(client, NAME, '1.0.0'));
    // Real ECR names it ImageTagAlreadyExistsException; moto 5.2.5 raises ImageAlreadyExistsException.
    assert.match(error.name, /^Image(Tag)?AlreadyExistsException$/);

    await registry.ensureRepository(request({ name: 'retail/mutable', immutableTags: false }));
    await seedImage(client, 'retail/mutable', '1.0.0');
    await seedImage(client, 'retail/mutable', '1.0.0');
  });

  it('when the same run ensures it again (a retry after a crash), then it reports created:true and nothing is duplicated', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    assert.deepEqual(await registry.ensureRepository(request()), { name: NAME, uri: `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${NAME}`, created: true });
    const { repositories } = await client.send(new DescribeRepositoriesCommand({}));
    assert.equal(repositories?.length, 1);
  });

  it('when a crash left the repository without its lifecycle policy and with mutable tags, then ensuring it again with the same key repairs both', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    await client.send(new DeleteLifecyclePolicyCommand({ repositoryName: NAME }));
    await client.send(new PutImageTagMutabilityCommand({ repositoryName: NAME, imageTagMutability: 'MUTABLE' }));

    assert.equal((await registry.ensureRepository(request())).created, true);
    assert.equal((await describeRepository()).imageTagMutability, 'IMMUTABLE');
    assert.ok(await lifecycleOf());
  });

  it('when an earlier platform run created it, then it reports created:false and still brings the settings and tags to what is asked', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request({ idempotencyKey: 'landing-zone.demo/earlier-run/imageRepository', immutableTags: false, scanOnPush: false, lifecyclePolicy: { keepLastImages: 5 }, tags: { tenant: 'retail' } }));

    assert.equal((await registry.ensureRepository(request())).created, false);
    const repository = await describeRepository();
    assert.equal(repository.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(repository.imageScanningConfiguration, { scanOnPush: true });
    assert.equal((await lifecycleOf()) && JSON.stringify(await lifecycleOf()).includes('"countNumber":100'), true);
    const tags = await tagsOf();
    assert.equal(tags.project, 'demo');
    assert.equal(tags[CREATED_BY_TAG], 'landing-zone.demo/earlier-run/imageRepository', 'the creator is never rewritten');
  });

  it('when someone else made the repository (no created-by tag), then it reports created:false with its URI and leaves the repository exactly as it was', async () => {
    await client.send(new CreateRepositoryCommand({ repositoryName: NAME, imageTagMutability: 'MUTABLE', tags: [{ Key: 'owner', Value: 'team-legacy' }] }));
    const result = await createEcrImageRegistry({ client }).ensureRepository(request());
    assert.deepEqual(result, { name: NAME, uri: `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${NAME}`, created: false });
    assert.equal((await describeRepository()).imageTagMutability, 'MUTABLE');
    assert.equal(await lifecycleOf(), undefined);
    assert.deepEqual(await tagsOf(), { owner: 'team-legacy' });
  });

  it('when mutable tags, no scan on push, no lifecycle and a KMS key are asked for, then that is what ECR holds', async () => {
    const kmsKey = `arn:aws:kms:eu-west-1:${MOTO_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await createEcrImageRegistry({ client, kmsKey }).ensureRepository(request({ immutableTags: false, scanOnPush: false, lifecyclePolicy: undefined }));
    const repository = await describeRepository();
    assert.equal(repository.imageTagMutability, 'MUTABLE');
    assert.deepEqual(repository.imageScanningConfiguration, { scanOnPush: false });
    assert.deepEqual(repository.encryptionConfiguration, { encryptionType: 'KMS', kmsKey });
    assert.equal(await lifecycleOf(), undefined);
  });

  it('when keepLastImages is not a positive whole number, then it fails non-retryably before anything is created', async () => {
    const error = await failureOf(createEcrImageRegistry({ client }).ensureRepository(request({ lifecyclePolicy: { keepLastImages: 0 } })));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, ErrorType.ConfigurationInvalid);
    const { repositories } = await client.send(new DescribeRepositoriesCommand({}));
    assert.equal(repositories?.length, 0);
  });

  it('when ECR refuses the repository name (InvalidParameterException), then the failure is non-retryable and carries ECR\'s reason', async () => {
    const error = await failureOf(createEcrImageRegistry({ client }).ensureRepository(request({ name: 'Retail/Demo' })));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /^ECR refused ecr:CreateRepository on repository Retail\/Demo: InvalidParameterException/);
  });

  it('when an absent repository is deleted, then it reports deleted:false', async () => {
    assert.deepEqual(await createEcrImageRegistry({ client }).deleteRepository({ name: NAME, force: false }), { deleted: false });
    assert.deepEqual(await createEcrImageRegistry({ client }).deleteRepository({ name: NAME, force: true }), { deleted: false });
  });

  it('when a repository holding images is deleted without force, then it is refused non-retryably naming the image count, and kept', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request({ immutableTags: false }));
    await seedImage(client, NAME, '1.0.0');
    await seedImage(client, NAME, '1.1.0');

    const error = await failureOf(registry.deleteRepository({ name: NAME, force: false }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, ErrorType.ResourceConflict);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.message, `repository ${NAME} still holds 2 images; delete with force to remove them`);
    assert.ok(await describeRepository());
  });

  it('when a repository holding images is deleted with force, then it and its images are gone', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    await seedImage(client, NAME, '1.0.0');
    assert.deepEqual(await registry.deleteRepository({ name: NAME, force: true }), { deleted: true });
    const error = await failureOf(describeRepository());
    assert.equal(error.name, 'RepositoryNotFoundException');
  });

  it('when an undo (onlyIfCreatedBy) names the run that created the repository, then it is deleted, images and all when forced', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    await seedImage(client, NAME, '1.0.0');
    assert.deepEqual(await registry.deleteRepository({ name: NAME, force: true, onlyIfCreatedBy: KEY }), { deleted: true });
    assert.equal((await failureOf(describeRepository())).name, 'RepositoryNotFoundException');
  });

  it('when an undo (onlyIfCreatedBy) names another run, or the repository was made by someone else or is absent, then nothing is deleted', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request({ idempotencyKey: 'landing-zone.demo/earlier-run/imageRepository' }));
    assert.deepEqual(await registry.deleteRepository({ name: NAME, force: true, onlyIfCreatedBy: KEY }), { deleted: false });
    await client.send(new CreateRepositoryCommand({ repositoryName: 'retail/legacy' }));
    assert.deepEqual(await registry.deleteRepository({ name: 'retail/legacy', force: true, onlyIfCreatedBy: KEY }), { deleted: false });
    assert.deepEqual(await registry.deleteRepository({ name: 'retail/absent', force: true, onlyIfCreatedBy: KEY }), { deleted: false });
    assert.ok(await describeRepository());
    assert.ok(await describeRepository('retail/legacy'));
  });

  it('when an empty repository is deleted without force, then it is deleted', async () => {
    const registry = createEcrImageRegistry({ client });
    await registry.ensureRepository(request());
    assert.deepEqual(await registry.deleteRepository({ name: NAME, force: false }), { deleted: true });
  });
});

describe('ECR image registry against recorded ECR responses (failures moto does not produce)', () => {
  it('when the platform may not create repositories (AccessDeniedException), then a non-retryable failure names ecr:CreateRepository', async () => {
    const { client } = recordedEcrClient(() => ecrError(400, 'AccessDeniedException', `User: arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/platform/worker is not authorized to perform: ecr:CreateRepository`));
    const error = await failureOf(createEcrImageRegistry({ client }).ensureRepository(request()));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, ErrorType.ConfigurationInvalid);
    assert.match(error.message, /^the platform's AWS identity may not call ecr:CreateRepository on repository retail\/demo \(grant that IAM action\)/);
  });

  it('when the credentials are not valid for AWS (UnrecognizedClientException), then the failure is non-retryable', async () => {
    const { client } = recordedEcrClient(() => ecrError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.'));
    const error = await failureOf(createEcrImageRegistry({ client }).deleteRepository({ name: NAME, force: false }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /ecr:DeleteRepository/);
  });

  it('when ECR throttles, answers 500, or cannot be reached, then the failure is a plain retryable Error', async () => {
    for (const reply of [ecrError(400, 'ThrottlingException', 'Rate exceeded'), ecrError(500, 'ServerException', 'Internal error'), new Error('getaddrinfo ENOTFOUND api.ecr.eu-west-1.amazonaws.com')]) {
      const { client } = recordedEcrClient(() => reply);
      const error = await failureOf(createEcrImageRegistry({ client }).ensureRepository(request()));
      assert.ok(error instanceof EcrUnavailableError, error.message);
      assert.ok(!(error instanceof ApplicationFailure));
    }
  });

  it('when a retried CreateRepository finds the repository this run created, then only the missing lifecycle policy is put (recorded call order)', async () => {
    const arn = `arn:aws:ecr:eu-west-1:${MOTO_ACCOUNT}:repository/${NAME}`;
    const repository = { repositoryArn: arn, registryId: MOTO_ACCOUNT, repositoryName: NAME, repositoryUri: `${MOTO_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${NAME}`, imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true } };
    const { client, calls } = recordedEcrClient(({ action }) => {
      switch (action) {
        case 'CreateRepository':
          return ecrError(400, 'RepositoryAlreadyExistsException', `The repository with name '${NAME}' already exists`);
        case 'DescribeRepositories':
          return { status: 200, body: { repositories: [repository] } };
        case 'ListTagsForResource':
          return { status: 200, body: { tags: [{ Key: 'tenant', Value: 'retail' }, { Key: 'project', Value: 'demo' }, { Key: 'managed-by', Value: 'deploy-platform' }, { Key: CREATED_BY_TAG, Value: KEY }] } };
        case 'PutLifecyclePolicy':
          return { status: 200, body: { registryId: MOTO_ACCOUNT, repositoryName: NAME } };
        default:
          return assert.fail(`unexpected ${action}`);
      }
    });
    assert.equal((await createEcrImageRegistry({ client }).ensureRepository(request())).created, true);
    assert.deepEqual(calls.map((c) => c.action), ['CreateRepository', 'DescribeRepositories', 'ListTagsForResource', 'PutLifecyclePolicy']);
  });
});

describe('ECR failure translation and tag values', () => {
  it('when an error has no HTTP status (network, timeout), then it is retryable; a 404-named error with 400 is not', () => {
    assert.ok(translateEcrError(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), { action: 'ListImages', subject: 'x' }) instanceof EcrUnavailableError);
    const missing = translateEcrError(Object.assign(new Error('no such repository'), { name: 'RepositoryNotFoundException', $metadata: { httpStatusCode: 400 } }), { action: 'ListImages', subject: 'repository a/b' });
    assert.ok(missing instanceof ApplicationFailure && missing.nonRetryable);
    assert.match(missing.message, /^repository a\/b does not exist in ECR/);
  });

  it('when an idempotency key has characters ECR tags refuse, then its hash is recorded instead (and stays stable)', () => {
    assert.equal(createdByValue(KEY), KEY);
    const odd = 'run#1?' + 'x'.repeat(300);
    assert.match(createdByValue(odd), /^sha256:[0-9a-f]{64}$/);
    assert.equal(createdByValue(odd), createdByValue(odd));
  });
});
