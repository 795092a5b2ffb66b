import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import type { ClusterTarget, TargetLocation } from '../../activities/ports/cluster-target';
import { ErrorType } from '../../shared/errors';
import {
  applyRequest,
  commitCount,
  dirOf,
  filesAt,
  git,
  location,
  manifest,
  rejectsWith,
  status,
  tempRepo,
  trailers,
} from './helpers';

let repoDir: string;
let cleanup: () => void;
let target: ClusterTarget;
const appDir = dirOf(location());

beforeEach(() => {
  ({ repoDir, cleanup } = tempRepo());
  target = createGitOpsClusterTarget({ repoDir });
});
afterEach(() => cleanup());

function installHook(name: string, script: string): void {
  const path = join(repoDir, '.git', 'hooks', name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
}

describe('apply', () => {
  it('when the repository is missing, then it is created on main with a README commit before the apply commit', async () => {
    const result = await target.apply(applyRequest('dep-1/run-1/deploy'));

    assert.equal(git(repoDir, 'symbolic-ref', 'HEAD').trim(), 'refs/heads/main');
    assert.equal(commitCount(repoDir), 2);
    assert.match(readFileSync(join(repoDir, 'README.md'), 'utf8'), /clusters\/<cluster>\/<namespace>\/<service>\/<component>/);
    assert.equal(result.previousRevision, null);
    assert.equal(result.changed, true);
    assert.equal(result.revision, git(repoDir, 'rev-parse', 'HEAD').trim());
  });

  it('when manifests are applied, then the location holds one file per manifest and the commit carries the audit trailers', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(request);

    assert.deepEqual(filesAt(repoDir, appDir), [`${appDir}/deployment-ledger.yaml`, `${appDir}/service-ledger.yaml`]);
    assert.equal(git(repoDir, 'show', `${revision}:${appDir}/deployment-ledger.yaml`), request.manifests[0]?.yaml);
    assert.equal(git(repoDir, 'log', '-1', '--format=%s', revision).trim(), 'Deploy ledger (dep-1/run-1/deploy)');
    assert.equal(
      trailers(repoDir, revision),
      ['Platform-Idempotency-Key: dep-1/run-1/deploy', 'Platform-Deployment: dep-1', 'Platform-Run: run-1', 'Change: CHG0001'].join('\n'),
    );
    assert.equal(status(repoDir), '');
  });

  it('when there is no change number, then the commit has no Change trailer', async () => {
    const request = applyRequest('k/no-change');
    request.audit = { title: 'Deploy', deploymentId: 'dep-1', runId: 'run-1' };
    const { revision } = await target.apply(request);
    assert.doesNotMatch(trailers(repoDir, revision), /^Change:/m);
  });

  it('when the same key is applied twice, then one commit is made and both calls return the same result', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    const first = await target.apply(request);
    const commits = commitCount(repoDir);
    // The retry even carries different manifests: the first attempt's commit is the answer.
    const second = await target.apply({ ...request, manifests: [manifest('ConfigMap', 'other')] });

    assert.deepEqual(second, first);
    assert.equal(commitCount(repoDir), commits);
  });

  it('when a key is a prefix of an earlier key, then the earlier commit is not mistaken for it', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy-extended'));
    const shorter = await target.apply(applyRequest('dep-1/run-1/deploy', { location: location('other') }));

    assert.equal(shorter.changed, true);
    assert.equal(shorter.previousRevision, null);
    assert.match(trailers(repoDir, shorter.revision), /^Platform-Idempotency-Key: dep-1\/run-1\/deploy$/m);
  });

  it('when the same manifests are applied with a new key, then changed is false and no commit is made', async () => {
    const first = await target.apply(applyRequest('dep-1/run-1/deploy'));
    const commits = commitCount(repoDir);
    const again = await target.apply(applyRequest('dep-2/run-2/deploy'));

    assert.deepEqual(again, { revision: first.revision, previousRevision: first.revision, changed: false });
    assert.equal(commitCount(repoDir), commits);
  });

  it('when a second deploy drops a manifest, then the stale file is removed and the previous revision is the first deploy', async () => {
    const first = await target.apply(applyRequest('dep-1/run-1/deploy'));
    const second = await target.apply(applyRequest('dep-2/run-2/deploy', { manifests: [manifest('Deployment', 'ledger', 'spec:\n  replicas: 2\n')] }));

    assert.equal(second.changed, true);
    assert.equal(second.previousRevision, first.revision);
    assert.deepEqual(filesAt(repoDir, appDir), [`${appDir}/deployment-ledger.yaml`]);
  });

  it('when another location changed in between, then the previous revision is still the last commit of this location', async () => {
    const first = await target.apply(applyRequest('dep-1/run-1/deploy'));
    await target.apply(applyRequest('dep-9/run-9/deploy', { location: location('billing') }));
    const second = await target.apply(applyRequest('dep-2/run-2/deploy', { manifests: [manifest('Deployment', 'ledger', 'x: 1\n')] }));
    assert.equal(second.previousRevision, first.revision);
  });

  it('when extra files are given, then they are committed at their paths beside the manifests', async () => {
    const { revision } = await target.apply(
      applyRequest('dep-1/run-1/deploy', { extraFiles: { 'charts/payments/ledger/0.1.0/Chart.yaml': 'name: ledger\n' } }),
    );
    assert.equal(git(repoDir, 'show', `${revision}:charts/payments/ledger/0.1.0/Chart.yaml`), 'name: ledger\n');
    assert.match(git(repoDir, 'log', '-1', '--format=%b', revision), /under charts\/payments\/ledger\/0\.1\.0\//);
  });

  for (const path of ['/etc/passwd', '../outside.yaml', 'charts/../../outside.yaml', '.git/hooks/pre-commit', 'clusters/local/x.yaml', 'C:/x']) {
    it(`when an extra file path is ${path}, then it fails ConfigurationInvalid and nothing is written`, async () => {
      await rejectsWith(target.apply(applyRequest('k/bad-path', { extraFiles: { [path]: 'x' } })), ErrorType.ConfigurationInvalid);
    });
  }

  it('when namespace-level manifests are applied, then they land in the namespace\'s _namespace folder', async () => {
    const nsLocation: TargetLocation = { cluster: 'local', namespace: 'payments-dev', component: 'namespace' };
    const result = await target.apply(applyRequest('k/namespace', { location: nsLocation, manifests: [manifest('Namespace', 'payments-dev', '', 'namespace')] }));
    assert.equal(result.changed, true);
    assert.deepEqual(git(repoDir, 'ls-tree', '-r', '--name-only', 'HEAD', dirOf(nsLocation)).trim().split('\n'), ['clusters/local/payments-dev/_namespace/namespace-payments-dev.yaml']);
  });

  it('when a location segment would escape its folder, then it fails ConfigurationInvalid', async () => {
    await rejectsWith(target.apply(applyRequest('k/bad-loc', { location: { ...location(), service: '..' } })), ErrorType.ConfigurationInvalid);
    await rejectsWith(target.apply(applyRequest('k/bad-name', { manifests: [manifest('Service', 'a/b')] })), ErrorType.ConfigurationInvalid);
  });

  it('when a pre-commit hook rejects mesh paths, then the mesh apply fails ClusterTargetRejected with its output and the repository stays clean', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    installHook('pre-commit', 'if git diff --cached --name-only | grep -q "/mesh/"; then echo "mesh changes are frozen" >&2; exit 1; fi');
    const commits = commitCount(repoDir);

    const failure = await rejectsWith(
      target.apply(applyRequest('dep-1/run-1/wireMesh', { location: location('ledger', 'mesh'), manifests: [manifest('VirtualService', 'ledger', '', 'mesh')] })),
      ErrorType.ClusterTargetRejected,
    );
    assert.match(failure.message, /pre-commit hook.*mesh changes are frozen/s);
    assert.equal(commitCount(repoDir), commits);
    assert.equal(status(repoDir), '');

    const app = await target.apply(applyRequest('dep-2/run-2/deploy', { manifests: [manifest('Deployment', 'ledger', 'x: 2\n')] }));
    assert.equal(app.changed, true, 'the hook lets other paths through');
  });

  it('when a commit-msg hook rejects the message, then the apply fails ClusterTargetRejected', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    installHook('commit-msg', 'grep -q "^Change: CHG" "$1" || { echo "a change number is required"; exit 1; }');
    const request = applyRequest('dep-2/run-2/deploy', { manifests: [manifest('Deployment', 'ledger', 'x: 2\n')] });
    request.audit = { title: 'Deploy', deploymentId: 'dep-2', runId: 'run-2' };

    const failure = await rejectsWith(target.apply(request), ErrorType.ClusterTargetRejected);
    assert.match(failure.message, /a change number is required/);
  });
});

describe('rollback', () => {
  it('when the second deploy is rolled back, then the location holds the first deploy again in a revert commit with trailers', async () => {
    const first = await target.apply(applyRequest('dep-1/run-1/deploy'));
    const firstFiles = filesAt(repoDir, appDir).map((f) => [f, git(repoDir, 'show', `HEAD:${f}`)]);
    const second = await target.apply(
      applyRequest('dep-2/run-2/deploy', {
        manifests: [manifest('Deployment', 'ledger', 'spec:\n  replicas: 3\n'), manifest('ConfigMap', 'ledger')],
        extraFiles: { 'charts/ledger/values.yaml': 'replicas: 3\n' },
      }),
    );

    const rolledBack = await target.rollback({ idempotencyKey: 'dep-2/run-2/deploy', audit: { title: 'Undo deploy', deploymentId: 'dep-2', runId: 'run-2', changeNumber: 'CHG0002' } });

    assert.equal(rolledBack.rolledBack, true);
    assert.equal(rolledBack.revision, git(repoDir, 'rev-parse', 'HEAD').trim());
    assert.deepEqual(filesAt(repoDir, appDir).map((f) => [f, git(repoDir, 'show', `HEAD:${f}`)]), firstFiles);
    assert.deepEqual(filesAt(repoDir, 'charts'), [], 'the extra files of the reverted apply go too');
    assert.equal(git(repoDir, 'log', '-1', '--format=%s').trim(), 'Revert "Deploy ledger (dep-2/run-2/deploy)"');
    assert.match(git(repoDir, 'log', '-1', '--format=%b'), new RegExp(`This reverts commit ${second.revision}`));
    assert.equal(
      trailers(repoDir),
      ['Platform-Reverts-Key: dep-2/run-2/deploy', 'Platform-Deployment: dep-2', 'Platform-Run: run-2', 'Change: CHG0002'].join('\n'),
    );
    assert.notEqual(first.revision, rolledBack.revision);
    assert.equal(status(repoDir), '');
  });

  it('when a rollback is retried, then there is one revert commit and both calls return it', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const request = { idempotencyKey: 'dep-1/run-1/deploy', audit: { title: 'Undo', deploymentId: 'dep-1', runId: 'run-1' } };
    const first = await target.rollback(request);
    const commits = commitCount(repoDir);
    const second = await target.rollback(request);

    assert.deepEqual(second, first);
    assert.equal(commitCount(repoDir), commits);
    assert.deepEqual(filesAt(repoDir, appDir), []);
  });

  it('when the key was never applied, then nothing is rolled back', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const commits = commitCount(repoDir);
    assert.deepEqual(await target.rollback({ idempotencyKey: 'dep-1/run-1/dep', audit: { title: 'Undo', deploymentId: 'd', runId: 'r' } }), {
      rolledBack: false,
    });
    assert.equal(commitCount(repoDir), commits);
  });

  it('when a later commit changed the same files, then rollback fails RollbackConflict naming the commit and paths, and the repository is clean', async () => {
    const first = await target.apply(applyRequest('dep-1/run-1/deploy'));
    await target.apply(applyRequest('dep-2/run-2/deploy', { manifests: [manifest('Deployment', 'ledger', 'spec:\n  replicas: 5\n'), manifest('Service', 'ledger')] }));
    const head = git(repoDir, 'rev-parse', 'HEAD').trim();

    const failure = await rejectsWith(
      target.rollback({ idempotencyKey: 'dep-1/run-1/deploy', audit: { title: 'Undo', deploymentId: 'dep-1', runId: 'run-1' } }),
      ErrorType.RollbackConflict,
    );
    assert.match(failure.message, new RegExp(first.revision));
    assert.match(failure.message, /deployment-ledger\.yaml/);
    assert.equal(git(repoDir, 'rev-parse', 'HEAD').trim(), head);
    assert.equal(status(repoDir), '');
    assert.equal(existsSync(join(repoDir, '.git', 'REVERT_HEAD')), false, 'no revert in progress');
  });
});

describe('verify', () => {
  it('when the location holds the applied manifests, then it is healthy and reports what it checked', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(request);
    await target.apply(applyRequest('dep-9/run-9/deploy', { location: location('billing') }));
    const progress: string[] = [];

    const result = await target.verify({ location: request.location, manifests: request.manifests, revision }, (d) => progress.push(d));

    assert.equal(result.healthy, true, result.detail);
    assert.match(result.detail, /2 applied manifests intact/);
    assert.equal(progress.length, 2);
    assert.match(progress[0] ?? '', new RegExp(`main contains revision ${revision}`));
  });

  it('when a manifest was tampered with in a later commit, then it is unhealthy and names the file and the commit', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(request);
    writeFileSync(join(repoDir, appDir, 'service-ledger.yaml'), 'tampered: true\n');
    writeFileSync(join(repoDir, appDir, 'secret-extra.yaml'), 'kind: Secret\n');
    git(repoDir, 'add', '-A');
    git(repoDir, 'commit', '-q', '-m', 'hand edit');

    const result = await target.verify({ location: request.location, manifests: request.manifests, revision });

    assert.equal(result.healthy, false);
    assert.match(result.detail, /service-ledger\.yaml differs/);
    assert.match(result.detail, /secret-extra\.yaml is not part of the release/);
    assert.match(result.detail, /hand edit/);
    assert.doesNotMatch(result.detail, /deployment-ledger/);
  });

  it('when the revision is unknown or not on the branch, then it is unhealthy', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    await target.apply(request);
    const unknown = await target.verify({ location: request.location, manifests: request.manifests, revision: 'f'.repeat(40) });
    assert.equal(unknown.healthy, false);
    assert.match(unknown.detail, /does not exist/);

    git(repoDir, 'checkout', '-q', '-b', 'side');
    git(repoDir, 'commit', '-q', '--allow-empty', '-m', 'elsewhere');
    const side = git(repoDir, 'rev-parse', 'HEAD').trim();
    git(repoDir, 'checkout', '-q', 'main');
    const offBranch = await target.verify({ location: request.location, manifests: request.manifests, revision: side });
    assert.equal(offBranch.healthy, false);
    assert.match(offBranch.detail, /not on branch main/);
  });

  it('when a manifest is missing at HEAD, then it is unhealthy', async () => {
    const request = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(request);
    git(repoDir, 'rm', '-q', `${appDir}/service-ledger.yaml`);
    git(repoDir, 'commit', '-q', '-m', 'remove service');
    const result = await target.verify({ location: request.location, manifests: request.manifests, revision });
    assert.equal(result.healthy, false);
    assert.match(result.detail, /service-ledger\.yaml is missing/);
  });
});

describe('repository', () => {
  it('when the configured branch is not main, then commits land on that branch', async () => {
    const onRelease = createGitOpsClusterTarget({ repoDir, branch: 'release', author: { name: 'Robot', email: 'robot@example.com' } });
    const { revision } = await onRelease.apply(applyRequest('dep-1/run-1/deploy'));
    assert.equal(git(repoDir, 'rev-parse', 'refs/heads/release').trim(), revision);
    assert.equal(git(repoDir, 'log', '-1', '--format=%an <%ae> / %cn <%ce>').trim(), 'Robot <robot@example.com> / Robot <robot@example.com>');
  });

  it('when the directory exists with other files and no repository, then it is refused ConfigurationInvalid', async () => {
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const elsewhere = join(repoDir, 'charts-not-a-repo');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'precious.txt'), 'keep me');
    await rejectsWith(createGitOpsClusterTarget({ repoDir: elsewhere }).apply(applyRequest('k/x')), ErrorType.ConfigurationInvalid);
    assert.equal(readFileSync(join(elsewhere, 'precious.txt'), 'utf8'), 'keep me');
  });
});
