/**
 * The cheap paths of the GitOps target and the safety nets around them: reads without the lock,
 * recovery skipped only when this process left the repository clean, hooks spawned only when
 * installed. Git subprocesses are counted through `onGitCommand`, so "recovery ran" and "a hook
 * ran" are observable, and the per-operation budgets guard against creeping back.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createGitOpsClusterTarget, type GitOpsClusterTargetOptions } from '../../activities/adapters/gitops';
import { runApplyChild } from './apply-in-child';
import { CLEAN_MARKER_FILE } from '../../activities/adapters/gitops/repository';
import type { ApplyRequest, ApplyResult, ClusterTarget } from '../../activities/ports/cluster-target';
import { ErrorType } from '../../shared/errors';
import { applyRequest, commitCount, dirOf, filesAt, git, location, manifest, rejectsWith, status, tempRepo } from './helpers';
import { until } from '../helpers/until';

let repoDir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];

beforeEach(() => {
  ({ repoDir, cleanup } = tempRepo());
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  cleanup();
});

interface Counted {
  target: ClusterTarget;
  /** Every git command since the last `take()`, as its arguments joined by spaces. */
  take(): string[];
}

function counted(options: Partial<GitOpsClusterTargetOptions> = {}): Counted {
  let commands: string[] = [];
  const target = createGitOpsClusterTarget({ repoDir, ...options, onGitCommand: (args) => commands.push(args.join(' ')) });
  return {
    target,
    take: () => {
      const taken = commands;
      commands = [];
      return taken;
    },
  };
}

/** `symbolic-ref` is run by recovery and nothing else. */
const recovered = (commands: readonly string[]): boolean => commands.some((c) => c.startsWith('symbolic-ref'));
const hookRuns = (commands: readonly string[]): string[] => commands.filter((c) => c.startsWith('hook run'));

const markerFile = (): string => join(repoDir, '.git', CLEAN_MARKER_FILE);
const lockFile = (): string => join(repoDir, '.git', 'deploy-platform.lock');
const verifyOf = (request: ApplyRequest, revision: string) => ({ location: request.location, manifests: request.manifests, revision });
let replicas = 1;
/** A deploy of ledger that always changes something: a new replica count each time. */
const nextDeploy = (key: string): ApplyRequest => applyRequest(key, { manifests: [manifest('Deployment', 'ledger', `spec:\n  replicas: ${(replicas += 1)}\n`)] });

function installHook(name: string, script: string, dir = join(repoDir, '.git', 'hooks')): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** `promise`, or a failure naming `what` if it has not settled within `ms` (a read stuck behind a lock). */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Another worker process applying one request (see apply-child.ts). */
function applyInChild(key: string, service: string): Promise<ApplyResult> {
  const { child, done } = runApplyChild(repoDir, [key, service]);
  children.push(child);
  return done;
}

describe('git subprocesses per operation', () => {
  it('when the repository was left clean by this process, then each operation stays within its budget and runs no recovery', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('warm/run/deploy', { location: location('warm') }));
    const request = applyRequest('dep-1/run-1/deploy');
    take();

    const { revision } = await target.apply(request);
    const applyNew = take();
    await target.apply(request);
    const applyAgain = take();
    await target.apply(applyRequest('dep-2/run-2/deploy'));
    const applyUnchanged = take();
    assert.equal((await target.verify(verifyOf(request, revision))).healthy, true);
    const verify = take();
    await target.inventory({ cluster: 'local', namespace: 'payments-dev' });
    const inventory = take();
    const undo = { idempotencyKey: 'dep-1/run-1/deploy', audit: { title: 'Undo', deploymentId: 'dep-1', runId: 'run-1' } };
    await target.rollback(undo);
    const rollback = take();
    await target.rollback(undo);
    const rollbackAgain = take();

    // Budgets, not exact counts: a new command here is fine if it is needed, but it should be a decision.
    const budgets: [string, string[], number][] = [
      // Group commit: the branch and paths' types, the current files, the import, the working tree.
      ['apply (new commit)', applyNew, 4],
      ['apply (idempotent repeat)', applyAgain, 3],
      ['apply (no change)', applyUnchanged, 2],
      // Answered from the branch index: the branch head is the index's, the location last changed by this apply.
      ['verify', verify, 0],
      ['inventory', inventory, 2],
      ['rollback', rollback, 6],
      ['rollback (idempotent repeat)', rollbackAgain, 2],
    ];
    for (const [operation, commands, budget] of budgets) {
      assert.ok(commands.length <= budget, `${operation}: ${commands.length} git commands, budget ${budget}:\n${commands.join('\n')}`);
      assert.equal(recovered(commands), false, `${operation} recovered`);
      assert.deepEqual(hookRuns(commands), [], `${operation} spawned hooks that do not exist`);
    }
  });
});

describe('clean marker', () => {
  it('when a section ends cleanly, then the marker names this process and the next section skips recovery', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    assert.equal(recovered(take()), true, 'a process recovers the first time it touches the repository');
    assert.ok(existsSync(markerFile()));

    await target.apply(nextDeploy('dep-2/run-2/deploy'));
    assert.equal(recovered(take()), false);
    assert.equal(status(repoDir), '');
  });

  it('when the marker is missing (a holder died mid-section) and debris is left, then the next section recovers and commits only its own change', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    // What a worker killed half-way leaves: no marker, a tracked file scribbled over, a stray file.
    rmSync(markerFile());
    writeFileSync(join(repoDir, 'README.md'), 'scribbled over');
    mkdirSync(join(repoDir, 'charts'));
    writeFileSync(join(repoDir, 'charts', 'half-written.yaml'), 'debris');
    take();

    const result = await target.apply(nextDeploy('dep-2/run-2/deploy'));

    assert.equal(recovered(take()), true);
    assert.equal(result.changed, true);
    assert.deepEqual(git(repoDir, 'show', '--name-only', '--format=', result.revision).trim().split('\n'), [`${dirOf(location())}/deployment-ledger.yaml`, `${dirOf(location())}/service-ledger.yaml`]);
    assert.match(readFileSync(join(repoDir, 'README.md'), 'utf8'), /^# GitOps repository/);
    assert.equal(status(repoDir), '');
  });

  it('when the marker was written by another process, then this process recovers rather than trusting it', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const [, ...rest] = readFileSync(markerFile(), 'utf8').split('\n');
    writeFileSync(markerFile(), ['another-process-token', ...rest].join('\n'));
    writeFileSync(join(repoDir, 'README.md'), 'scribbled over');
    take();

    await target.apply(nextDeploy('dep-2/run-2/deploy'));

    assert.equal(recovered(take()), true);
    assert.equal(status(repoDir), '');
  });

  it('when another worker process committed in between, then this process recovers once and then skips again', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    await applyInChild('dep-c/run/deploy', 'child');
    take();

    await target.apply(nextDeploy('dep-2/run-2/deploy'));
    assert.equal(recovered(take()), true, "the child's marker is not ours");
    await target.apply(nextDeploy('dep-3/run-3/deploy'));
    assert.equal(recovered(take()), false);
    assert.equal(filesAt(repoDir, dirOf(location('child'))).length, 2);
  });

  it('when the marker is intact but a stale lock had to be taken over, then the section recovers', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    writeFileSync(lockFile(), `${dead.pid}\n${hostname()}\n\nstale-token\n`);
    take();

    await target.apply(nextDeploy('dep-2/run-2/deploy'));

    assert.equal(recovered(take()), true);
    assert.equal(existsSync(lockFile()), false);
  });

  it('when a person staged a file or switched branches by hand, then the fingerprint no longer matches and the section recovers', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    writeFileSync(join(repoDir, 'notes.txt'), 'not for the cluster');
    git(repoDir, 'add', 'notes.txt');
    take();

    const staged = await target.apply(nextDeploy('dep-2/run-2/deploy'));
    assert.equal(recovered(take()), true);
    assert.deepEqual(filesAt(repoDir, 'notes.txt', staged.revision), [], "a person's staged file is never swept into our commit");

    git(repoDir, 'checkout', '-q', '-b', 'elsewhere');
    const switched = await target.apply(nextDeploy('dep-3/run-3/deploy'));
    assert.equal(recovered(take()), true);
    assert.equal(git(repoDir, 'rev-parse', 'refs/heads/main').trim(), switched.revision, 'the commit lands on the configured branch');
  });

  it('while a section runs, there is no marker; a section ended by our own refusal leaves one, an unexpected failure does not', async () => {
    const seen = join(repoDir, '..', 'marker-during-hook');
    // A target whose next `git commit` fails the way a broken or killed git would: not our verdict.
    let failNextCommit = false;
    const commands: string[] = [];
    const flaky = createGitOpsClusterTarget({
      repoDir,
      onGitCommand: (args) => {
        commands.push(args.join(' '));
        if (failNextCommit && args[0] === 'commit') {
          failNextCommit = false;
          throw new Error('git died');
        }
      },
    });
    await flaky.apply(applyRequest('dep-1/run-1/deploy'));
    installHook('pre-commit', `if [ -e "${markerFile()}" ]; then echo present > "${seen}"; else echo absent > "${seen}"; fi\ngit diff --cached --name-only | grep -q /mesh/ && exit 1\nexit 0`);

    await flaky.apply(nextDeploy('dep-2/run-2/deploy'));
    assert.equal(readFileSync(seen, 'utf8').trim(), 'absent', 'the marker is removed before the section does anything');
    assert.ok(existsSync(markerFile()), 'and written back at its end');

    await rejectsWith(
      flaky.apply(applyRequest('dep-3/run-3/wireMesh', { location: location('ledger', 'mesh'), manifests: [manifest('VirtualService', 'ledger', '', 'mesh')] })),
      ErrorType.ClusterTargetRejected,
    );
    assert.ok(existsSync(markerFile()), 'a refusal is cleaned up and the repository is known clean');
    commands.length = 0;
    await flaky.apply(nextDeploy('dep-4/run-4/deploy'));
    assert.equal(recovered(commands), false);

    failNextCommit = true;
    await assert.rejects(flaky.apply(nextDeploy('dep-5/run-5/deploy')), /git died/);
    assert.equal(existsSync(markerFile()), false, 'after an unexpected failure the next holder must recover');
    commands.length = 0;
    const retried = await flaky.apply(nextDeploy('dep-5/run-5/deploy'));
    assert.equal(recovered(commands), true);
    assert.equal(retried.changed, true);
    assert.equal(status(repoDir), '');
  });
});

describe('reads without the lock', () => {
  it('while another operation holds the section open, verify and inventory complete and see the committed branch, not the work in progress', async () => {
    const target = createGitOpsClusterTarget({ repoDir });
    const first = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(first);
    const entered = join(repoDir, '..', 'entered');
    const release = join(repoDir, '..', 'release');
    installHook('pre-commit', `touch "${entered}"\nwhile [ ! -e "${release}" ]; do sleep 0.05; done`);

    // Holds the process queue and the file lock, with a half-made change staged in the index.
    const holding = target.apply(applyRequest('dep-2/run-2/deploy', { location: location('billing') }));
    try {
      await until('the apply to be inside its commit', () => existsSync(entered), { timeoutMs: 15_000, everyMs: 20 });
      assert.ok(existsSync(lockFile()));

      const verified = await within('verify', 5_000, target.verify(verifyOf(first, revision)));
      const inventory = await within('inventory', 5_000, target.inventory({ cluster: 'local', namespace: 'payments-dev' }));

      assert.equal(verified.healthy, true, verified.detail);
      assert.deepEqual(inventory, { services: ['ledger'], namespaceExists: false }, 'billing is staged, not committed');
    } finally {
      writeFileSync(release, '');
    }
    assert.equal((await holding).changed, true);
    assert.deepEqual((await target.inventory({ cluster: 'local', namespace: 'payments-dev' })).services, ['billing', 'ledger']);
  });

  it('while another process holds the file lock, verify completes', async () => {
    const target = createGitOpsClusterTarget({ repoDir });
    const request = applyRequest('dep-1/run-1/deploy');
    const { revision } = await target.apply(request);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    children.push(holder);
    writeFileSync(lockFile(), `${holder.pid}\n${hostname()}\n\nlive-token\n`);

    const verified = await within('verify', 5_000, target.verify(verifyOf(request, revision)));

    assert.equal(verified.healthy, true, verified.detail);
    rmSync(lockFile());
  });

  it('when many applies commit while verifies run, then every verify sees a consistent branch and is healthy', async () => {
    const target = createGitOpsClusterTarget({ repoDir });
    const services = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    await Promise.all(
      services.map(async (service) => {
        const request = applyRequest(`dep-${service}/run/deploy`, { location: location(service) });
        const { revision } = await target.apply(request);
        for (let i = 0; i < 3; i += 1) {
          const result = await target.verify(verifyOf(request, revision));
          assert.equal(result.healthy, true, `${service}: ${result.detail}`);
        }
      }),
    );
    assert.equal(commitCount(repoDir), 1 + services.length);
  });

  it('when the branch has no commit yet (a repository made by hand), then a read creates it under the lock first', async () => {
    mkdirSync(repoDir);
    git(repoDir, 'init', '-q', '--initial-branch=main');

    const inventory = await createGitOpsClusterTarget({ repoDir }).inventory({ cluster: 'local', namespace: 'payments-dev' });

    assert.deepEqual(inventory, { services: [], namespaceExists: false });
    assert.equal(commitCount(repoDir), 1);
    assert.equal(status(repoDir), '');
  });
});

describe('hooks', () => {
  it('when no hook is installed, then none is spawned; when one is, it runs and can still refuse', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    assert.deepEqual(hookRuns(take()), []);

    installHook('pre-commit', 'exit 0');
    installHook('commit-msg', 'grep -q "^Change: CHG" "$1" || { echo "a change number is required"; exit 1; }');
    await target.apply(nextDeploy('dep-2/run-2/deploy'));
    assert.deepEqual(
      hookRuns(take()).map((c) => c.split(' ').slice(0, 4).join(' ')),
      ['hook run --ignore-missing pre-commit', 'hook run --ignore-missing commit-msg'],
    );

    const noChange = nextDeploy('dep-3/run-3/deploy');
    noChange.audit = { title: 'Deploy', deploymentId: 'dep-3', runId: 'run-3' };
    const failure = await rejectsWith(target.apply(noChange), ErrorType.ClusterTargetRejected);
    assert.match(failure.message, /commit-msg hook.*a change number is required/s);
    assert.equal(status(repoDir), '');
  });

  it('when a hook file is not executable, then it is not run (as git itself ignores it)', async () => {
    const { target, take } = counted();
    await target.apply(applyRequest('dep-1/run-1/deploy'));
    const hook = installHook('pre-commit', 'exit 1');
    chmodSync(hook, 0o644);
    take();

    const result = await target.apply(nextDeploy('dep-2/run-2/deploy'));

    assert.equal(result.changed, true);
    assert.deepEqual(hookRuns(take()), []);
  });

  it('when core.hooksPath points elsewhere, then the hooks there are the ones that run', async () => {
    await createGitOpsClusterTarget({ repoDir }).apply(applyRequest('dep-1/run-1/deploy'));
    git(repoDir, 'config', 'core.hooksPath', '.git/platform-hooks');
    installHook('pre-commit', 'echo "frozen by the hooks path" >&2; exit 1', join(repoDir, '.git', 'platform-hooks'));
    installHook('pre-commit', 'exit 0'); // the default folder's hook is not the one git would run

    // A new instance: the hooks folder is resolved once per repository instance.
    const failure = await rejectsWith(createGitOpsClusterTarget({ repoDir }).apply(nextDeploy('dep-2/run-2/deploy')), ErrorType.ClusterTargetRejected);

    assert.match(failure.message, /frozen by the hooks path/);
  });
});
