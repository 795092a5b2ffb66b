/**
 * The embedded source-repository host: bare git repositories at `<rootDir>/<tenant>/<project>.git`
 * that `git clone <path>` can clone. A repository is built in a temporary work tree, committed
 * once with the run's idempotency key as a trailer, cloned bare beside its final place and renamed
 * into it, so a half-made repository is never visible. Archived repositories (decommissioned
 * projects) move to `<rootDir>/.archive/<tenant>/<project>.<key hash>.git`, history intact; tenants
 * are DNS labels, so `.archive` can never be one.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import type { CreateSourceRepositoryRequest, SourceRepository } from '../../ports/source-repository';
import { createGit } from '../gitops/git';
import { withProcessMutex } from '../gitops/lock';

export interface LocalGitSourceOptions {
  rootDir: string;
}

const NAME = /^[a-z][-a-z0-9]*\/[a-z][-a-z0-9]*$/;
const KEY_TRAILER = 'Platform-Idempotency-Key';
const ARCHIVE_DIR = '.archive';
const committer = { name: 'deploy-platform', email: 'deploy-platform@localhost' };

const invalid = (message: string): ApplicationFailure => ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message });

function checkPath(path: string): void {
  const segments = path.split('/');
  if (posix.isAbsolute(path) || segments.some((s) => s === '' || s === '.' || s === '..') || segments.some((s) => s.toLowerCase() === '.git')) {
    throw invalid(`file path ${JSON.stringify(path)} must be relative, normalised and outside .git`);
  }
}

export function createLocalGitSourceRepositories({ rootDir }: LocalGitSourceOptions): SourceRepository {
  const pathOf = (name: string): string => {
    if (!NAME.test(name)) throw invalid(`repository name ${JSON.stringify(name)} must be <tenant>/<project>`);
    return join(rootDir, `${name}.git`);
  };
  const describe = async (bare: string, name: string) => {
    const git = createGit(bare, committer);
    const head = (await git.run(['rev-parse', 'HEAD'])).stdout.trim();
    const key = (await git.run(['log', '-1', `--format=%(trailers:key=${KEY_TRAILER},valueonly)`])).stdout.trim();
    return { name, cloneUrl: bare, defaultBranch: 'main', head, key };
  };

  return {
    create(request: CreateSourceRepositoryRequest) {
      const bare = pathOf(request.name);
      Object.keys(request.files).forEach(checkPath);
      return withProcessMutex(`source:${bare}`, async () => {
        if (existsSync(bare)) {
          const { key, ...existing } = await describe(bare, request.name);
          if (key !== request.idempotencyKey) {
            throw ApplicationFailure.create({
              type: ErrorType.ResourceConflict,
              nonRetryable: true,
              message: `source repository ${request.name} already exists (created by ${key || 'someone else'})`,
            });
          }
          return { ...existing, created: true };
        }
        const work = await mkdtemp(join(tmpdir(), 'source-repo-'));
        const staging = `${bare}.${process.pid}.tmp`;
        try {
          await rm(staging, { recursive: true, force: true });
          for (const [path, content] of Object.entries(request.files)) {
            await mkdir(dirname(join(work, path)), { recursive: true });
            await writeFile(join(work, path), content);
          }
          const git = createGit(work, request.initialCommit.author);
          await git.run(['init', '--quiet', '--initial-branch=main']);
          await git.run(['add', '--all']);
          await git.run(['commit', '--quiet', '--file=-'], { input: `${request.initialCommit.message}\n\n${KEY_TRAILER}: ${request.idempotencyKey}\n` });
          await mkdir(dirname(bare), { recursive: true });
          await git.run(['clone', '--quiet', '--bare', work, staging]);
          await rename(staging, bare);
        } finally {
          await rm(work, { recursive: true, force: true });
          await rm(staging, { recursive: true, force: true });
        }
        const { key: _key, ...created } = await describe(bare, request.name);
        return { ...created, created: true };
      });
    },

    delete({ name }) {
      const bare = pathOf(name);
      return withProcessMutex(`source:${bare}`, async () => {
        if (!existsSync(bare)) return { deleted: false };
        await rm(bare, { recursive: true, force: true });
        return { deleted: true };
      });
    },

    archive({ name, idempotencyKey }) {
      const bare = pathOf(name);
      const suffix = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12);
      const archived = join(rootDir, ARCHIVE_DIR, `${name}.${suffix}.git`);
      return withProcessMutex(`source:${bare}`, async () => {
        // A retry after the move finds the archive, not the repository.
        if (existsSync(archived)) return { archived: true, location: archived };
        if (!existsSync(bare)) return { archived: false };
        await mkdir(dirname(archived), { recursive: true });
        await rename(bare, archived);
        return { archived: true, location: archived };
      });
    },
  };
}
