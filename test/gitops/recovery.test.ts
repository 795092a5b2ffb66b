import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import { runApplyChild } from './apply-in-child';
import type { ApplyResult, ClusterTarget } from '../../activities/ports/cluster-target';
import { applyRequest, commitCount, dirOf, filesAt, git, location, manifest, status, tempRepo } from './helpers';
import { until } from '../helpers/until';

let repoDir: string;
let cleanup: () => void;
let target: ClusterTarget;
const children: ChildProcess[] = [];
const appDir = dirOf(location());

beforeEach(async () => {
  ({ repoDir, cleanup } = tempRepo());
  target = createGitOpsClusterTarget({ repoDir });
  // Every test starts from a repository that exists and holds one deploy.
  await target.apply(applyRequest('dep-0/run-0/deploy'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  cleanup();
});

const lockFile = (): string => join(repoDir, '.git', 'deploy-platform.lock');

/** A process that has exited and been reaped: its pid is free. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(child.pid);
  return child.pid;
}

function runChild(...args: string[]): { child: ChildProcess; done: Promise<ApplyResult> } {
  const run = runApplyChild(repoDir, args);
  children.push(run.child);
  return run;
}

/** Live git processes working in `dir` (from /proc). */
function gitProcessesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'git' && realpathSync(readlinkSync(`/proc/${pid}/cwd`)) === realpathSync(dir);
      } catch {
        return false;
      }
    });
}

const nextDeploy = (key: string) => applyRequest(key, { manifests: [manifest('Deployment', 'ledger', `spec:\n  replicas: 4\n`)] });

describe('crash recovery', () => {
  it("when a killed git left index.lock and a dirty working tree, then the next apply removes them and commits only its own manifests", async () => {
    writeFileSync(join(repoDir, '.git', 'index.lock'), '');
    writeFileSync(join(repoDir, appDir, 'service-ledger.yaml'), 'half written');
    writeFileSync(join(repoDir, appDir, 'configmap-debris.yaml'), 'untracked');
    writeFileSync(join(repoDir, 'README.md'), 'scribbled over');

    const result = await target.apply(nextDeploy('dep-1/run-1/deploy'));

    assert.equal(result.changed, true);
    assert.deepEqual(filesAt(repoDir, appDir), [`${appDir}/deployment-ledger.yaml`]);
    assert.match(git(repoDir, 'show', 'HEAD:README.md'), /^# GitOps repository/);
    assert.deepEqual(git(repoDir, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort(), [
      `${appDir}/deployment-ledger.yaml`,
      `${appDir}/service-ledger.yaml`,
    ]);
    assert.equal(existsSync(join(repoDir, '.git', 'index.lock')), false);
    assert.equal(status(repoDir), '');
  });

  it('when a revert stopped at a conflict was left behind, then the next operation starts from a clean HEAD', async () => {
    await target.apply(nextDeploy('dep-1/run-1/deploy'));
    // What a worker killed between `git revert --no-commit` and the cleanup would leave.
    assert.throws(() => git(repoDir, 'revert', '--no-commit', 'HEAD~1'));
    assert.ok(existsSync(join(repoDir, '.git', 'REVERT_HEAD')));

    const result = await target.apply(applyRequest('dep-2/run-2/deploy', { location: location('billing') }));

    assert.equal(result.changed, true);
    assert.equal(existsSync(join(repoDir, '.git', 'REVERT_HEAD')), false);
    assert.equal(status(repoDir), '');
  });

  it('when the lock file names a pid that no longer exists, then it is taken over', async () => {
    writeFileSync(lockFile(), `${await deadPid()}\n${hostname()}\n\nstale-token\n`);

    const result = await target.apply(nextDeploy('dep-1/run-1/deploy'));

    assert.equal(result.changed, true);
    assert.equal(existsSync(lockFile()), false, 'released after the apply');
  });

  it('when the lock file names this very pid with a token nobody here holds, then it is taken over (pid reused after a restart)', async () => {
    writeFileSync(lockFile(), `${process.pid}\n${hostname()}\n\nleft-by-a-previous-incarnation\n`);
    const result = await target.apply(nextDeploy('dep-1/run-1/deploy'));
    assert.equal(result.changed, true);
  });

  it('when a live process holds the lock, then the apply waits for it and proceeds once it is released', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    children.push(holder);
    writeFileSync(lockFile(), `${holder.pid}\n${hostname()}\n\nlive-token\n`);

    const applying = target.apply(nextDeploy('dep-1/run-1/deploy'));
    await sleep(300);
    assert.equal(commitCount(repoDir), 2, 'nothing committed while the lock is held');
    rmSync(lockFile());

    assert.equal((await applying).changed, true);
    assert.equal(commitCount(repoDir), 3);
  });

  it('when a live process holds the lock past the timeout, then the apply fails with a retryable error naming the holder', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    children.push(holder);
    writeFileSync(lockFile(), `${holder.pid}\n${hostname()}\n\nlive-token\n`);
    const impatient = createGitOpsClusterTarget({ repoDir, lockTimeoutMs: 200 });

    const error: unknown = await impatient.apply(nextDeploy('dep-1/run-1/deploy')).catch((e: unknown) => e);

    assert.ok(error instanceof Error);
    assert.ok(!(error instanceof ApplicationFailure), 'retryable: the holder may finish');
    assert.match(error.message, new RegExp(`held by pid ${holder.pid}`));
    assert.equal(readFileSync(lockFile(), 'utf8').split('\n')[3], 'live-token', "the live holder's lock is left alone");
  });

  it('when a worker is SIGKILLed mid-apply, then another worker takes over its lock and a retry of the same key applies once', async () => {
    const marker = join(repoDir, '..', 'in-hook');
    const hook = join(repoDir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, `#!/bin/sh\ntouch "${marker}"\nsleep 5\n`);
    chmodSync(hook, 0o755);
    const { child, done } = runChild('dep-1/run-1/deploy', 'killed');
    done.catch(() => undefined); // it is killed on purpose

    await until('the child to be inside its commit', () => existsSync(marker), { timeoutMs: 15_000, everyMs: 20 });
    assert.equal(readFileSync(lockFile(), 'utf8').split('\n')[0], String(child.pid));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Its git helper sees the worker gone and kills the git it was running (the hook waits 5 s), so
    // no git of the dead worker writes the repository while the next one recovers it.
    await until("the dead worker's git commands to end", () => gitProcessesIn(repoDir).length === 0, { timeoutMs: 2_500, everyMs: 20 });
    rmSync(hook);
    assert.notEqual(status(repoDir), '', 'the killed apply left its files staged');

    const other = await target.apply(applyRequest('dep-2/run-2/deploy', { location: location('billing') }));
    const retried = await target.apply(applyRequest('dep-1/run-1/deploy', { location: location('killed') }));
    const again = await target.apply(applyRequest('dep-1/run-1/deploy', { location: location('killed') }));

    assert.equal(other.changed, true);
    assert.deepEqual(filesAt(repoDir, dirOf(location('killed')), other.revision), [], 'the killed apply left nothing in the next commit');
    assert.equal(retried.changed, true);
    assert.deepEqual(again, retried);
    assert.equal(filesAt(repoDir, dirOf(location('killed'))).length, 2);
    assert.equal(git(repoDir, 'log', '--format=%H', '--fixed-strings', '--grep=dep-1/run-1/deploy').trim().split('\n').length, 1);
    assert.equal(status(repoDir), '');
  });
});

describe('concurrency', () => {
  it('when applies to different services run concurrently in one process, then all of them land', async () => {
    const services = ['a', 'b', 'c', 'd', 'e'];
    const second = createGitOpsClusterTarget({ repoDir }); // a second instance shares the queue by path

    const results = await Promise.all(services.map((s, i) => (i % 2 ? second : target).apply(applyRequest(`dep-${s}/run/deploy`, { location: location(s) }))));

    assert.equal(new Set(results.map((r) => r.revision)).size, services.length);
    assert.ok(results.every((r) => r.changed));
    assert.equal(commitCount(repoDir), 2 + services.length);
    for (const s of services) assert.equal(filesAt(repoDir, dirOf(location(s))).length, 2, s);
    assert.equal(status(repoDir), '');
  });

  it('when two other processes and this one apply to different services at once, then all three commits land', async () => {
    const one = runChild('dep-p1/run/deploy', 'p1');
    const two = runChild('dep-p2/run/deploy', 'p2');
    const here = target.apply(applyRequest('dep-p3/run/deploy', { location: location('p3') }));

    const results = await Promise.all([one.done, two.done, here]);

    assert.ok(results.every((r) => r.changed));
    assert.equal(commitCount(repoDir), 2 + 3);
    for (const s of ['p1', 'p2', 'p3']) assert.equal(filesAt(repoDir, dirOf(location(s))).length, 2, s);
    assert.equal(status(repoDir), '');
  });
});
