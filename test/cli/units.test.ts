/**
 * platformctl's parts that need no platform: the image rule (the same as the API's), durations,
 * what the waiting loop prints for a sequence of readings, and how it ends (timeouts, outages).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, ConnectionError, ExitCode } from '../../cli/errors';
import { main } from '../../cli/main';
import { imageDigest, parseDuration } from '../../cli/options';
import { progressLine } from '../../cli/output';
import { progressEvents } from '../../cli/progress';
import type { RunView } from '../../cli/types';
import { waitForRun, type Clock } from '../../cli/wait';
import { parseImageReference } from '../../shared/schemas/deployment';

const HEX = 'ab'.repeat(32);

describe('image references', () => {
  const samples = [
    `registry.example.com/team/app:1.2.3@sha256:${HEX}`,
    `registry.example.com:5000/team/app@sha256:${HEX}`,
    `app@sha256:${HEX}`,
    `localhost/a/b/c:tag_1.0-rc@sha256:${HEX}`,
    `registry.example.com/team/app:1.2.3`,
    `registry.example.com/team/app@sha256:${HEX.slice(2)}`,
    `registry.example.com/team/App@sha256:${HEX}`,
    `registry.example.com/team/app@sha256:${HEX.toUpperCase()}`,
    `registry.example.com/team/app:latest@sha512:${HEX}`,
    `-bad.example.com/app@sha256:${HEX}`,
    '',
  ];
  it("when a reference is checked, then the CLI and the API's schema agree on it", () => {
    for (const sample of samples) {
      assert.equal(imageDigest(sample), parseImageReference(sample)?.digest, sample);
    }
  });
});

describe('durations', () => {
  it('when a duration is given, then units add up; anything else is refused', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2s'), 2_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('0s'), 0);
    for (const bad of ['', '10', 'soon', '1 h', '-1s', '2 s']) assert.throws(() => parseDuration(bad), bad);
  });
});

const step = (name: string, status: string, detail?: string, endedAt = '2026-11-26T10:00:01.000Z') => ({ name, status, startedAt: '2026-11-26T10:00:00.000Z', ...(status === 'running' ? {} : { endedAt }), ...(detail ? { detail } : {}) });

describe('progress lines', () => {
  const seen = new Date('2026-11-26T10:00:05.000Z');
  const readings: RunView[] = [
    { status: 'running', stage: 'scan', steps: [step('scan', 'running')] },
    // Two steps ended between readings, and the run began waiting.
    {
      status: 'awaiting_approval',
      stage: 'awaitApproval',
      steps: [step('scan', 'succeeded', '0 blocking findings'), step('render', 'succeeded', 'chart x'), step('openChange', 'succeeded', 'CHG0000001'), step('awaitApproval', 'running')],
      change: { number: 'CHG0000001' },
      approval: { required: true, deadline: '2026-11-27T10:00:00.000Z' },
    },
    // Nothing new: nothing printed.
    {
      status: 'awaiting_approval',
      stage: 'awaitApproval',
      steps: [step('scan', 'succeeded', '0 blocking findings'), step('render', 'succeeded', 'chart x'), step('openChange', 'succeeded', 'CHG0000001'), step('awaitApproval', 'running')],
      change: { number: 'CHG0000001' },
      approval: { required: true, deadline: '2026-11-27T10:00:00.000Z' },
    },
    // A refused decision.
    {
      status: 'awaiting_approval',
      stage: 'awaitApproval',
      steps: [step('scan', 'succeeded', '0 blocking findings'), step('render', 'succeeded', 'chart x'), step('openChange', 'succeeded', 'CHG0000001'), step('awaitApproval', 'running')],
      change: { number: 'CHG0000001' },
      approval: { required: true, deadline: '2026-11-27T10:00:00.000Z', refused: [{ at: '2026-11-26T10:00:03.000Z', via: 'update', claimed: 'approved', approver: 'ci-x', reason: 'the requester' }] },
    },
    {
      status: 'rejected',
      stage: 'done',
      steps: [step('scan', 'succeeded', '0 blocking findings'), step('render', 'succeeded', 'chart x'), step('openChange', 'succeeded', 'CHG0000001'), step('awaitApproval', 'failed', 'rejected by jane', '2026-11-26T10:00:04.000Z')],
      change: { number: 'CHG0000001' },
      approval: { required: true, deadline: '2026-11-27T10:00:00.000Z', refused: [{ at: '2026-11-26T10:00:03.000Z', via: 'update', claimed: 'approved', approver: 'ci-x', reason: 'the requester' }] },
      error: { type: 'ApprovalRejected', message: 'rejected by jane' },
    },
  ];

  it('when readings follow each other, then each step, status change, wait for approval and refused decision is printed once, in order', () => {
    const lines = readings.flatMap((reading, index) => progressEvents(readings[index - 1], reading, seen).map(progressLine));
    assert.deepEqual(lines, [
      '10:00:05  status=running stage=scan',
      '10:00:01    scan succeeded: 0 blocking findings',
      '10:00:01    render succeeded: chart x',
      '10:00:01    openChange succeeded: CHG0000001',
      '10:00:05  status=awaiting_approval stage=awaitApproval',
      '10:00:05    waiting for approval of change CHG0000001, approval deadline 2026-11-27T10:00:00.000Z',
      '10:00:03    approval.refused: approved by ci-x via update: the requester',
      '10:00:04    awaitApproval failed: rejected by jane',
      '10:00:05  status=rejected stage=done',
    ]);
  });

  it('when the first reading is of a run well under way (wait started late), then what happened so far is printed', () => {
    const lines = progressEvents(undefined, readings[1]!, seen).map(progressLine);
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /scan succeeded/);
  });
});

/** A clock that moves only when the loop sleeps. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('the waiting loop', () => {
  const noop = (): void => undefined;

  it('when the run ends, then it returns its exit code: 0 succeeded, 1 for every failed ending', async () => {
    for (const [status, code] of [
      ['succeeded', ExitCode.ok],
      ['failed', ExitCode.runFailed],
      ['rejected', ExitCode.runFailed],
      ['expired', ExitCode.runFailed],
      ['rolled_back', ExitCode.runFailed],
      ['cancelled', ExitCode.runFailed],
    ] as const) {
      const statuses = ['running', 'awaiting_approval', status];
      const outcome = await waitForRun({ read: () => Promise.resolve({ status: statuses.shift() ?? status }), onReading: noop, onRetry: noop }, { intervalMs: 1_000, timeoutMs: 60_000 }, fakeClock());
      assert.deepEqual(outcome.kind === 'ended' ? [outcome.view.status, outcome.exitCode] : outcome, [status, code]);
    }
  });

  it('when the timeout passes, then it stops after a last reading at the deadline and says so', async () => {
    const clock = fakeClock();
    let reads = 0;
    const outcome = await waitForRun({ read: () => Promise.resolve({ status: 'awaiting_approval', stage: `read-${++reads}` }), onReading: noop, onRetry: noop }, { intervalMs: 2_000, timeoutMs: 5_000 }, clock);
    assert.equal(outcome.kind, 'timeout');
    assert.deepEqual(clock.slept, [2_000, 2_000, 1_000]);
    assert.equal(reads, 4);
  });

  it('when the platform is briefly unreachable or answers 503, then the wait goes on; a 404 ends it at once', async () => {
    const clock = fakeClock();
    const answers: (() => Promise<RunView>)[] = [
      () => Promise.reject(new ConnectionError('connect ECONNREFUSED')),
      () => Promise.reject(new ApiError(503, { title: 'Service unavailable' }, 'GET x')),
      () => Promise.resolve({ status: 'succeeded' }),
    ];
    const retried: string[] = [];
    const outcome = await waitForRun({ read: () => answers.shift()!(), onReading: noop, onRetry: (error) => retried.push(error.message) }, { intervalMs: 1_000, timeoutMs: 60_000 }, clock);
    assert.equal(outcome.kind, 'ended');
    assert.equal(retried.length, 2);

    await assert.rejects(
      waitForRun({ read: () => Promise.reject(new ApiError(404, { title: 'Not found' }, 'GET x')), onReading: noop, onRetry: noop }, { intervalMs: 1_000, timeoutMs: 60_000 }, fakeClock()),
      (error: unknown) => error instanceof ApiError && error.exitCode === ExitCode.usage,
    );
  });

  it('when the platform is still unreachable at the deadline, then the wait ends with that error (exit 3), not a timeout', async () => {
    await assert.rejects(
      waitForRun({ read: () => Promise.reject(new ConnectionError('connect ECONNREFUSED')), onReading: noop, onRetry: noop }, { intervalMs: 1_000, timeoutMs: 3_000 }, fakeClock()),
      (error: unknown) => error instanceof ConnectionError && error.exitCode === ExitCode.unavailable,
    );
  });
});

describe('main', () => {
  it('when run in-process with --version, then it prints the version of cli/package.json and returns 0', async () => {
    let stdout = '';
    const code = await main(['--version'], { stdout: (text) => (stdout += text), stderr: () => undefined, env: {} });
    assert.equal(code, 0);
    assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
