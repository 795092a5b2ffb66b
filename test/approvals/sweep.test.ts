/** The approval sweep's paging and watermark, over fakes of both ports (the e2e tests use the real ones). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApprovalSweepActivities, DEFAULT_SWEEP_LOOKBACK_MS, DEFAULT_SWEEP_OVERLAP_MS } from '../../activities/approval-sweep';
import type { ChangeManagement, DecidedChange } from '../../activities/ports/change-management';

const NOW = new Date('2026-11-26T12:00:00.000Z');

/** A change-management fake holding `decided` (oldest first) and recording each page asked for. */
function changesWith(decided: DecidedChange[]) {
  const asked: { since: string; offset: number; limit: number }[] = [];
  const port: Pick<ChangeManagement, 'decidedSince'> = {
    async decidedSince(since, page = { offset: 0, limit: 100 }) {
      asked.push({ since: since.toISOString(), ...page });
      const rows = decided.filter((c) => (c.updatedAt ?? '') >= since.toISOString()).slice(page.offset, page.offset + page.limit);
      return { changes: rows, ...(rows.length === page.limit ? { next: page.offset + page.limit } : {}) };
    },
  };
  return { port: port as ChangeManagement, asked };
}

function promptRecorder() {
  const prompted: string[] = [];
  return { prompted, runs: { prompt: async (numbers: string[]) => (prompted.push(...numbers), numbers.length) } };
}

const change = (i: number, at: string): DecidedChange => ({ sysId: `s${i}`, number: `CHG${String(i).padStart(7, '0')}`, updatedAt: at });

describe('approval sweep', () => {
  it('when a new sweeper sweeps first, then it reads back the lookback and prompts every decided change once', async () => {
    const decided = Array.from({ length: 250 }, (_, i) => change(i, '2026-11-26T11:59:00.000Z'));
    const { port, asked } = changesWith(decided);
    const { runs, prompted } = promptRecorder();
    const result = await createApprovalSweepActivities(port, runs, { intervalMs: 60_000, now: () => NOW }).sweepDecidedChanges({});
    assert.equal(asked[0]!.since, new Date(NOW.getTime() - DEFAULT_SWEEP_LOOKBACK_MS).toISOString());
    assert.deepEqual(asked.map((a) => a.offset), [0, 100, 200]);
    assert.equal(new Set(prompted).size, 250);
    assert.deepEqual({ pages: result.pages, decided: result.decided, prompted: result.prompted, intervalMs: result.intervalMs }, { pages: 3, decided: 250, prompted: 250, intervalMs: 60_000 });
    assert.equal(result.nextSince, new Date(NOW.getTime() - DEFAULT_SWEEP_OVERLAP_MS).toISOString());
  });

  it('when nothing was decided, then one read is the whole sweep, however many runs wait', async () => {
    const { port, asked } = changesWith([]);
    const { runs } = promptRecorder();
    const result = await createApprovalSweepActivities(port, runs, { intervalMs: 60_000, now: () => NOW }).sweepDecidedChanges({ since: '2026-11-26T11:58:00.000Z' });
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.since, '2026-11-26T11:58:00.000Z');
    assert.equal(result.pages, 1);
  });

  it('when a sweep reaches its page limit, then the next one resumes at the last row read instead of skipping the rest', async () => {
    const decided = Array.from({ length: 6_000 }, (_, i) => change(i, new Date(Date.parse('2026-11-26T10:00:00.000Z') + i * 1000).toISOString()));
    const { port } = changesWith(decided);
    const { runs } = promptRecorder();
    const sweep = createApprovalSweepActivities(port, runs, { intervalMs: 60_000, now: () => NOW }).sweepDecidedChanges;
    const first = await sweep({ since: '2026-11-26T09:00:00.000Z' });
    assert.equal(first.pages, 50);
    assert.equal(first.nextSince, decided[4_999]!.updatedAt);
    const second = await sweep({ since: first.nextSince });
    assert.equal(second.decided, 1_001); // the row read last is read again, nothing is skipped
  });

  it('when the watermark would move backwards, then it stays where it was', async () => {
    const { port } = changesWith([]);
    const { runs } = promptRecorder();
    const since = new Date(NOW.getTime() - 1_000).toISOString();
    const result = await createApprovalSweepActivities(port, runs, { intervalMs: 60_000, now: () => NOW }).sweepDecidedChanges({ since });
    assert.equal(result.nextSince, since);
  });

  it('when polling is off, then the sweep reads nothing and tells the sweeper to stop', async () => {
    const { port, asked } = changesWith([change(1, NOW.toISOString())]);
    const { runs, prompted } = promptRecorder();
    const result = await createApprovalSweepActivities(port, runs, { intervalMs: 0, now: () => NOW }).sweepDecidedChanges({});
    assert.equal(asked.length, 0);
    assert.equal(prompted.length, 0);
    assert.equal(result.intervalMs, 0);
  });
});
