/** The command helper process the GitOps target forks git from (activities/adapters/gitops/spawner.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helperPid, spawnViaHelper, SpawnerUnavailableError } from '../../activities/adapters/gitops/spawner';

const node = (script: string, input?: string) => spawnViaHelper({ file: process.execPath, args: ['-e', script], options: { timeout: 10_000 }, ...(input !== undefined ? { input } : {}) });

describe('command helper process', () => {
  it('when a command runs, then its output, input and exit code cross the process boundary', async () => {
    const ok = await node('process.stdin.pipe(process.stdout)', 'hello');
    assert.deepEqual({ error: ok.error, stdout: ok.stdout }, { error: null, stdout: 'hello' });
    const failed = await node('process.stderr.write("nope"); process.exit(3)');
    assert.equal(failed.error?.code, 3);
    assert.equal(failed.stderr, 'nope');
    assert.notEqual(helperPid(), process.pid);
  });

  it('when a command outlives its timeout, then it is killed and reported as killed', async () => {
    const reply = await spawnViaHelper({ file: process.execPath, args: ['-e', 'setTimeout(() => {}, 60_000)'], options: { timeout: 300, killSignal: 'SIGKILL' } });
    assert.equal(reply.error?.killed, true);
    assert.equal(reply.error?.signal, 'SIGKILL');
  });

  it('when the helper dies mid-command, then the call fails as unavailable and the next call starts a new helper', async () => {
    const slow = node('setTimeout(() => {}, 5_000)');
    const first = helperPid();
    assert.ok(first);
    process.kill(first, 'SIGKILL');
    await assert.rejects(slow, SpawnerUnavailableError);
    const after = await node('process.stdout.write("again")');
    assert.equal(after.stdout, 'again');
    assert.notEqual(helperPid(), first);
  });
});
