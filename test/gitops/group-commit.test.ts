/**
 * Group commit: applies that wait for the repository together are committed by one fast-import,
 * each as its own commit, with the same answers the one-apply-at-a-time path gives; the branch
 * index answers the history questions and follows commits made by others.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import type { ApplyRequest, ApplyResult, ClusterTarget } from '../../activities/ports/cluster-target';
import { ErrorType } from '../../shared/errors';
import { runApplyChild } from './apply-in-child';
import { applyRequest, dirOf, git, location, manifest, rejectsWith, status, tempRepo } from './helpers';

let repoDir: string;
let cleanup: () => void;
beforeEach(() => ({ repoDir, cleanup } = tempRepo()));
afterEach(() => cleanup());

function counted(): { target: ClusterTarget; imports: () => number; commands: string[] } {
  const commands: string[] = [];
  const target = createGitOpsClusterTarget({ repoDir, onGitCommand: (args) => commands.push(args.join(' ')) });
  return { target, commands, imports: () => commands.filter((c) => c.startsWith('fast-import')).length };
}

const deployOf = (service: string, replicas: number, key = `${service}/run-${replicas}/deploy`): ApplyRequest =>
  applyRequest(key, { location: location(service), manifests: [manifest('Deployment', service, `spec:\n  replicas: ${replicas}\n`), manifest('Service', service)] });

const subject = (revision: string): string => git(repoDir, 'log', '-1', '--format=%s', revision).trim();
const keyOf = (revision: string): string => git(repoDir, 'log', '-1', '--format=%(trailers:key=Platform-Idempotency-Key,valueonly)', revision).trim();
const changedFiles = (revision: string): string[] => git(repoDir, 'show', '--name-only', '--format=', revision).trim().split('\n').filter(Boolean);
const firstParentChain = (): string[] => git(repoDir, 'rev-list', '--first-parent', 'HEAD').trim().split('\n');

function installHook(name: string, script: string, repository = repoDir): void {
  const dir = join(repository, '.git', 'hooks');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
  chmodSync(join(dir, name), 0o755);
}

describe('group commit', () => {
  it('when many applies arrive at once, then fewer imports than applies commit them, one commit each, in a straight line, with a clean working tree', async () => {
    const { target, imports } = counted();
    await target.apply(deployOf('warm', 1));
    const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
    const results = await Promise.all(services.map((service) => target.apply(deployOf(service, 1))));

    assert.ok(imports() < services.length, `${imports()} imports for ${services.length} applies`);
    const chain = firstParentChain();
    assert.equal(chain.length, 2 + services.length, 'initial commit, warm-up, one commit per apply');
    assert.equal(git(repoDir, 'rev-list', '--merges', '--count', 'HEAD').trim(), '0');
    results.forEach((result, i) => {
      const service = services[i] ?? '';
      assert.equal(result.changed, true);
      assert.equal(result.previousRevision, null, 'a new location has no previous change');
      assert.ok(chain.includes(result.revision));
      assert.equal(keyOf(result.revision), `${service}/run-1/deploy`);
      assert.deepEqual(changedFiles(result.revision), [`${dirOf(location(service))}/deployment-${service}.yaml`, `${dirOf(location(service))}/service-${service}.yaml`]);
    });
    assert.equal(status(repoDir), '', 'index and working tree hold the branch head');
    assert.equal(git(repoDir, 'show', `HEAD:${dirOf(location('svc-7'))}/deployment-svc-7.yaml`), deployOf('svc-7', 1).manifests[0]?.yaml);
  });

  it('when one group changes a location twice and repeats an apply, then the previous revisions chain and the repeat gets the first answer', async () => {
    const { target } = counted();
    const first = await target.apply(deployOf('ledger', 1));
    const [second, third, unchanged, repeat] = await Promise.all([
      target.apply(deployOf('ledger', 2)),
      target.apply(deployOf('ledger', 3)),
      target.apply(deployOf('ledger', 3, 'ledger/run-3-again/deploy')),
      target.apply(deployOf('ledger', 2)),
    ]);
    assert.equal(second?.previousRevision, first.revision);
    assert.equal(third?.previousRevision, second?.revision);
    assert.deepEqual(unchanged, { revision: third?.revision, previousRevision: third?.revision, changed: false });
    assert.deepEqual(repeat, second);
    assert.equal(firstParentChain().length, 4, 'initial, first, second, third: nothing for the unchanged apply or the repeat');
  });

  it('when an apply that committed in an earlier group is retried, then it gets its revision and previous revision again without a new commit', async () => {
    const { target } = counted();
    const first = await target.apply(deployOf('ledger', 1));
    const second = await target.apply(deployOf('ledger', 2));
    await target.apply(deployOf('other', 1));
    assert.deepEqual(await target.apply(deployOf('ledger', 2)), second);
    assert.equal(second.previousRevision, first.revision);
    assert.equal(firstParentChain().length, 4);
  });

  it('when someone else commits to the branch, then the index follows: previous revisions and retries see their commits', async () => {
    const { target } = counted();
    const mine = await target.apply(deployOf('ledger', 1));
    // Another worker's target on the same repository, and a person's commit.
    const other = createGitOpsClusterTarget({ repoDir });
    const theirs = await other.apply(deployOf('ledger', 2));
    writeFileSync(join(repoDir, dirOf(location('ledger')), 'configmap-extra.yaml'), 'kind: ConfigMap\n');
    git(repoDir, 'add', '.');
    git(repoDir, 'commit', '-q', '-m', 'A hand-made change');
    const handMade = git(repoDir, 'rev-parse', 'HEAD').trim();

    const next = await target.apply(deployOf('ledger', 3));
    assert.equal(next.previousRevision, handMade);
    assert.deepEqual(await target.apply(deployOf('ledger', 2)), theirs, "a retry of the other worker's apply finds its commit");
    assert.notEqual(mine.revision, theirs.revision);
    assert.equal(git(repoDir, 'ls-tree', '--name-only', 'HEAD', `${dirOf(location('ledger'))}/`).includes('configmap-extra.yaml'), false, 'the apply replaced the location');
  });

  it('when the branch was rewritten behind the index, then it is rebuilt and answers from the new history', async () => {
    const { target } = counted();
    const first = await target.apply(deployOf('ledger', 1));
    await target.apply(deployOf('ledger', 2));
    git(repoDir, 'reset', '-q', '--hard', first.revision);
    const next = await target.apply(deployOf('ledger', 3));
    assert.equal(next.previousRevision, first.revision);
    const again = await target.apply(deployOf('ledger', 2));
    assert.equal(again.changed, true);
    assert.equal(again.previousRevision, next.revision, 'the dropped commit is no longer found by its key');
  });

  it('when the history has a merge, then applies take the path of one at a time and still answer the same', async () => {
    const { target, imports } = counted();
    const first = await target.apply(deployOf('ledger', 1));
    git(repoDir, 'checkout', '-q', '-b', 'side');
    git(repoDir, 'commit', '-q', '--allow-empty', '-m', 'side');
    git(repoDir, 'checkout', '-q', 'main');
    git(repoDir, 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
    const before = imports();
    const [second, other] = await Promise.all([target.apply(deployOf('ledger', 2)), target.apply(deployOf('other', 1))]);
    assert.equal(imports(), before, 'no import');
    assert.equal(second?.previousRevision, first.revision);
    assert.equal(other?.previousRevision, null);
    assert.equal(subject(second?.revision ?? ''), deployOf('ledger', 2).audit.title);
  });

  it('when a commit hook is installed, then every apply runs it, even in a group', async () => {
    const { target, imports } = counted();
    await target.apply(deployOf('warm', 1));
    const importsBefore = imports();
    installHook('commit-msg', 'grep -q "^Change: CHG" "$1" || { echo "a change number is required"; exit 1; }');
    const without = applyRequest('no-change/run/deploy', { location: location('nochange'), audit: { title: 'x', deploymentId: 'd', runId: 'r' } });
    const [refused, accepted] = await Promise.allSettled([target.apply(without), target.apply(deployOf('ledger', 1))]);
    assert.equal(imports(), importsBefore);
    assert.equal(refused.status, 'rejected');
    await rejectsWith(Promise.reject((refused as PromiseRejectedResult).reason), ErrorType.ClusterTargetRejected);
    assert.equal(accepted.status, 'fulfilled', 'one refusal does not fail the rest of the group');
    assert.equal(status(repoDir), '');
  });

  it('when a file stands where one apply needs a directory, then that apply fails ConfigurationInvalid and the rest of its group commits', async () => {
    const { target } = counted();
    await target.apply(deployOf('warm', 1));
    mkdirSync(join(repoDir, 'clusters', 'local'), { recursive: true });
    writeFileSync(join(repoDir, 'clusters', 'local', 'blocked'), 'a file, not a namespace\n');
    git(repoDir, 'add', '.');
    git(repoDir, 'commit', '-q', '-m', 'a file in the way');
    const blocked = applyRequest('blocked/run/deploy', { location: { cluster: 'local', namespace: 'blocked', service: 'ledger', component: 'app' } });
    const [failed, fine] = await Promise.allSettled([target.apply(blocked), target.apply(deployOf('ledger', 1))]);
    await rejectsWith(Promise.reject((failed as PromiseRejectedResult).reason), ErrorType.ConfigurationInvalid);
    assert.equal(fine.status, 'fulfilled');
    assert.equal(git(repoDir, 'cat-file', '-t', 'HEAD:clusters/local/blocked').trim(), 'blob', 'the file is still there');
    assert.equal(status(repoDir), '');
  });

  it('when extra files have spaces, quotes, tabs or non-ASCII letters in their names, then they are stored under exactly those names', async () => {
    const { target, imports } = counted();
    const names = ['charts/ledger/1.0.0/a b.yaml', 'charts/ledger/1.0.0/"quoted".yaml', 'charts/ledger/1.0.0/tab\there.txt', 'charts/ledger/1.0.0/grüße.yaml', 'charts/ledger/1.0.0/"start'];
    const extraFiles = Object.fromEntries(names.map((name, i) => [name, `file ${i}\n`]));
    const result: ApplyResult = await target.apply(applyRequest('extras/run/deploy', { extraFiles }));
    assert.equal(imports(), 1);
    for (const [i, name] of names.entries()) assert.equal(git(repoDir, 'show', `${result.revision}:${name}`), `file ${i}\n`, name);
    assert.equal(status(repoDir), '');
    // The same files again: nothing changes.
    assert.equal((await target.apply(applyRequest('extras/run-2/deploy', { extraFiles }))).changed, false);
  });

  it('when an apply commits by import, then its message and identities are what git commit stores on the path of one at a time', async () => {
    const request = applyRequest('ledger/run-1/deploy', { extraFiles: { 'charts/ledger/1.0.0/Chart.yaml': 'name: ledger\n' } });
    const imported = (await counted().target.apply(request)).revision;
    const other = tempRepo();
    try {
      const classic = createGitOpsClusterTarget({ repoDir: other.repoDir });
      await classic.apply(applyRequest('warm/run/deploy', { location: location('warm') }));
      installHook('pre-commit', 'exit 0', other.repoDir);
      const committed = (await classic.apply(request)).revision;
      const format = '--format=%B%x00%an <%ae>%x00%cn <%ce>';
      assert.equal(git(repoDir, 'log', '-1', format, imported), git(other.repoDir, 'log', '-1', format, committed));
    } finally {
      other.cleanup();
    }
  });

  it('when a verify follows an apply of this process, then the branch index answers it without git; when it cannot vouch, git does, with the same verdicts', async () => {
    const { target, commands } = counted();
    const request = deployOf('ledger', 1);
    const { revision } = await target.apply(request);
    const verifyOf = (manifests = request.manifests, rev = revision) => target.verify({ location: request.location, manifests, revision: rev });

    let before = commands.length;
    assert.equal((await verifyOf()).healthy, true);
    assert.equal(commands.length, before, 'no git command');

    // Other manifests than the revision wrote: git explains.
    before = commands.length;
    const other = await verifyOf(deployOf('ledger', 5).manifests);
    assert.equal(other.healthy, false);
    assert.match(other.detail, /deployment-ledger\.yaml differs/);
    assert.ok(commands.length > before, 'asked git');

    // Refs packed (no loose ref file to read): git answers, healthy.
    git(repoDir, 'pack-refs', '--all');
    assert.equal((await verifyOf()).healthy, true);

    // A person's commit to another location: the index is behind the branch, git answers, healthy.
    writeFileSync(join(repoDir, 'NOTES.md'), 'notes\n');
    git(repoDir, 'add', 'NOTES.md');
    git(repoDir, 'commit', '-q', '-m', 'notes');
    assert.equal((await verifyOf()).healthy, true);

    // A later apply of the location: the old revision is no longer what the location holds.
    const later = await target.apply(deployOf('ledger', 2));
    const stale = await verifyOf();
    assert.equal(stale.healthy, false);
    assert.match(stale.detail, new RegExp(later.revision.slice(0, 7)));
    before = commands.length;
    assert.equal((await verifyOf(deployOf('ledger', 2).manifests, later.revision)).healthy, true);
    assert.equal(commands.length, before, 'the index has caught up with the person\'s commit: no git command');
  });

  it('when a worker is SIGKILLed at any point of a group, then retries apply every request exactly once and leave a clean, intact repository', async () => {
    const { target } = counted();
    await target.apply(deployOf('warm', 1));
    const lock = join(repoDir, '.git', 'deploy-platform.lock');
    const count = 30;
    for (const [round, delayMs] of [0, 15, 40, 80, 150].entries()) {
      const { child, done } = runApplyChild(repoDir, [`round-${round}`, `svc-${round}`, String(count)]);
      done.catch(() => undefined); // killed on purpose (or finished first: either is fine)
      const started = Date.now();
      while (!existsSync(lock) && child.exitCode === null && Date.now() - started < 30_000) await sleep(2);
      await sleep(delayMs);
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));

      // As Temporal would: an attempt that fails with a retryable error is tried again.
      const retried = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await target.apply(applyRequest(`round-${round}-${i}`, { location: location(`svc-${round}-${i}`) }));
            } catch (error) {
              assert.ok(!(error instanceof ApplicationFailure) && attempt < 3, `round ${round}, apply ${i}, attempt ${attempt}: ${String(error)}`);
              await sleep(200);
            }
          }
        }),
      );
      for (const [i, result] of retried.entries()) {
        assert.equal(keyOf(result.revision), `round-${round}-${i}`, `round ${round} (kill after ${delayMs} ms), apply ${i}`);
      }
      const keys = git(repoDir, 'log', '--format=%(trailers:key=Platform-Idempotency-Key,valueonly)').split('\n').filter((k) => k.startsWith(`round-${round}-`));
      assert.equal(keys.length, count, `round ${round}: every key committed once`);
      assert.equal(new Set(keys).size, count);
      assert.equal(status(repoDir), '', `round ${round}: clean working tree`);
      git(repoDir, 'fsck', '--no-dangling', '--no-progress');
    }
  });

  it('when applies come one at a time, then their objects are packed, never loose, and the packs are merged as they pile up', async () => {
    const { target } = counted();
    for (let i = 0; i < 60; i++) await target.apply(deployOf(`svc-${i}`, 1));
    const stats = Object.fromEntries(
      git(repoDir, 'count-objects', '-v')
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    assert.ok(Number(stats.count) <= 5, `loose objects: ${stats.count} (the initial commit's only)`);
    assert.ok(Number(stats.packs) <= 12, `packs after 60 imports: ${stats.packs}`);
    git(repoDir, 'fsck', '--no-dangling', '--no-progress');
  });
});
