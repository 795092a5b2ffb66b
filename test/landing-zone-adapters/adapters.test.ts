/**
 * Contract tests of the landing zone's embedded adapters (image registry record, bare-git source
 * repositories, outbox notifier): idempotent by key, typed refusals, real files and real git.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createLocalGitSourceRepositories } from '../../activities/adapters/git-source';
import { createLocalImageRegistry } from '../../activities/adapters/local-registry';
import { createOutboxNotifier } from '../../activities/adapters/outbox';
import { ErrorType } from '../../shared/errors';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lz-adapters-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function rejectsWith(promise: Promise<unknown>, type: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    return true;
  });
}

describe('local image registry', () => {
  const request = (key: string) => ({ name: 'retail/shop', immutableTags: true, scanOnPush: true, lifecyclePolicy: { keepLastImages: 10 }, tags: { tenant: 'retail' }, idempotencyKey: key });

  it('when a repository is ensured twice with the same key, then one record exists and both answers agree', async () => {
    const dataDir = tempDir();
    const registry = createLocalImageRegistry({ dataDir });
    const first = await registry.ensureRepository(request('lz/run/imageRepository'));
    const again = await createLocalImageRegistry({ dataDir }).ensureRepository(request('lz/run/imageRepository'));
    assert.deepEqual(again, first);
    assert.deepEqual(first, { name: 'retail/shop', uri: 'registry.localhost/retail/shop', created: true });
    const record = JSON.parse(readFileSync(join(dataDir, 'registry', 'retail', 'shop.json'), 'utf8'));
    assert.equal(record.immutableTags, true);
    assert.equal(record.scanOnPush, true);
  });

  it('when another run ensures an existing repository, then it is told it did not create it', async () => {
    const registry = createLocalImageRegistry({ dataDir: tempDir() });
    await registry.ensureRepository(request('first'));
    assert.equal((await registry.ensureRepository(request('second'))).created, false);
  });

  it('when a repository is deleted twice, then the second delete is a no-op', async () => {
    const registry = createLocalImageRegistry({ dataDir: tempDir() });
    await registry.ensureRepository(request('k'));
    assert.deepEqual(await registry.deleteRepository({ name: 'retail/shop', force: false }), { deleted: true });
    assert.deepEqual(await registry.deleteRepository({ name: 'retail/shop', force: false }), { deleted: false });
  });

  it('when a name escapes the registry, then it fails ConfigurationInvalid', async () => {
    await rejectsWith(createLocalImageRegistry({ dataDir: tempDir() }).ensureRepository({ ...request('k'), name: '../etc/passwd' }), ErrorType.ConfigurationInvalid);
  });
});

describe('local git source repositories', () => {
  const files = { 'README.md': '# shop\n', 'src/app.js': 'console.log("hi")\n', '.github/workflows/deploy.yml': 'name: deploy\n' };
  const request = (key: string, name = 'retail/shop') => ({
    name,
    files,
    initialCommit: { message: 'Create shop from the node-web template', author: { name: 'deploy-platform', email: 'dp@localhost' } },
    idempotencyKey: key,
  });

  it('when a repository is created, then git clone shows the files in one commit carrying the key', async () => {
    const rootDir = tempDir();
    const created = await createLocalGitSourceRepositories({ rootDir }).create(request('lz/run/sourceRepository'));
    assert.equal(created.created, true);
    const clone = join(tempDir(), 'clone');
    execFileSync('git', ['clone', '--quiet', created.cloneUrl, clone]);
    assert.equal(readFileSync(join(clone, 'src/app.js'), 'utf8'), files['src/app.js']);
    const log = execFileSync('git', ['-C', clone, 'log', '--format=%s%n%b'], { encoding: 'utf8' });
    assert.match(log, /^Create shop from the node-web template\nPlatform-Idempotency-Key: lz\/run\/sourceRepository\n/);
    assert.equal(execFileSync('git', ['-C', clone, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }).trim(), '1');
    assert.equal(execFileSync('git', ['-C', clone, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), created.head);
  });

  it('when created twice with the same key, then the same repository is returned; with another key, ResourceConflict', async () => {
    const sources = createLocalGitSourceRepositories({ rootDir: tempDir() });
    const first = await sources.create(request('k1'));
    assert.deepEqual(await sources.create(request('k1')), first);
    await rejectsWith(sources.create(request('k2')), ErrorType.ResourceConflict);
  });

  it('when deleted twice, then the second delete is a no-op', async () => {
    const sources = createLocalGitSourceRepositories({ rootDir: tempDir() });
    await sources.create(request('k'));
    assert.deepEqual(await sources.delete({ name: 'retail/shop' }), { deleted: true });
    assert.deepEqual(await sources.delete({ name: 'retail/shop' }), { deleted: false });
  });

  it('when a file path escapes the repository, then it fails ConfigurationInvalid and nothing is created', async () => {
    const rootDir = tempDir();
    const sources = createLocalGitSourceRepositories({ rootDir });
    for (const path of ['../x', '/etc/passwd', '.git/config', 'a//b']) {
      await rejectsWith((async () => sources.create({ ...request('k'), files: { [path]: 'x' } }))(), ErrorType.ConfigurationInvalid);
    }
    assert.deepEqual(await sources.delete({ name: 'retail/shop' }), { deleted: false });
  });
});

describe('outbox notifier', () => {
  const message = (key: string) => ({ to: ['owner@example.com'], group: 'team-shop', subject: 'Your landing zone is ready', body: 'Namespaces: shop-dev', links: [{ label: 'repo', url: '/tmp/x.git' }], idempotencyKey: key });

  it('when notified twice with the same key, even from a fresh instance, then one line is in the outbox', async () => {
    const outboxFile = join(tempDir(), 'outbox.jsonl');
    const logged: string[] = [];
    const first = await createOutboxNotifier({ outboxFile, log: (l) => logged.push(l) }).notify(message('lz/run/notify'));
    const again = await createOutboxNotifier({ outboxFile }).notify(message('lz/run/notify'));
    assert.deepEqual(again, first);
    const lines = readFileSync(outboxFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).subject, 'Your landing zone is ready');
    assert.equal(logged.length, 1);
    assert.doesNotMatch(logged[0]!, /Namespaces/, 'the log line carries no body');
  });

  it('when two different notifications race, then both are written once', async () => {
    const outboxFile = join(tempDir(), 'outbox.jsonl');
    const notifier = createOutboxNotifier({ outboxFile });
    await Promise.all([notifier.notify(message('a')), notifier.notify(message('b')), notifier.notify(message('a'))]);
    assert.equal(readFileSync(outboxFile, 'utf8').trim().split('\n').length, 2);
  });
});
