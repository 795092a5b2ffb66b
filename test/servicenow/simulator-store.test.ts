/**
 * The simulator's store on disk: a snapshot plus a journal of the mutations since, appended before
 * memory changes. What a restart finds after a crash at any point (journal only, after compaction,
 * a torn last line, a snapshot that already holds its journal), what it refuses, and that a write
 * that fails leaves memory as the files are.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { newApproval } from '../../simulators/servicenow/approval-records';
import { changeNumber } from '../../simulators/servicenow/records';
import { ChangeStore, journalFile, type ChangeStoreOptions } from '../../simulators/servicenow/store';
import { tempDir } from './helpers';

const FIRST = 30001;
const AT = new Date('2030-01-01T10:00:00Z');

interface Saved {
  version: number;
  nextNumber: number;
  records: unknown[];
  approvals: unknown[];
}

function snapshotOf(dataFile: string): Saved {
  return JSON.parse(readFileSync(dataFile, 'utf8')) as Saved;
}

function journalLines(dataFile: string): string[] {
  const journal = journalFile(dataFile);
  return existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter(Boolean) : [];
}

/** Everything a caller can read, for comparing a store with the one reopened from its files. */
function contents(store: ChangeStore): unknown {
  return { changes: store.list(), approvals: store.approvals() };
}

/** A create, an update and a decision: one journal line of each kind. */
function mutate(store: ChangeStore, label: string): void {
  const change = store.create({ short_description: `Deploy ${label}`, correlation_id: label }, AT);
  store.update(change.sys_id, { comments: `assessed ${label}`, state: '-4' }, AT);
  const approval = { ...newApproval(change.sys_id, 'jane.approver', 'cab', AT), state: 'approved' as const };
  assert.equal(store.saveDecision({ ...change, approval: 'approved', state: '-2' }, approval), true);
}

describe('ServiceNow simulator store', () => {
  const temp = tempDir('sn-store');
  let files = 0;
  const newDataFile = () => join(temp.dir, `store-${++files}`, 'changes.json');
  const open = (dataFile: string, options?: ChangeStoreOptions) => ChangeStore.open(dataFile, FIRST, options);
  after(() => temp.remove());

  it('when the process stops without compacting, then reopening replays the journal: same records, approvals and numbers', () => {
    const dataFile = newDataFile();
    const store = open(dataFile);
    mutate(store, 'a');
    mutate(store, 'b');
    assert.equal(journalLines(dataFile).length, 6, 'one line per mutation');
    assert.equal(snapshotOf(dataFile).records.length, 0, 'the snapshot is only the one written on open');

    const reopened = open(dataFile);
    assert.deepEqual(contents(reopened), contents(store));
    assert.equal(reopened.byNumber(changeNumber(FIRST + 1))?.correlation_id, 'b');
    assert.equal(reopened.approvals(store.byNumber(changeNumber(FIRST))?.sys_id).length, 1);
    assert.equal(existsSync(journalFile(dataFile)), false, 'opening compacts the journal into the snapshot');
    assert.equal(snapshotOf(dataFile).records.length, 2);
    assert.equal(reopened.create({ short_description: 'next' }, AT).number, changeNumber(FIRST + 2), 'numbers do not repeat');
  });

  it('when the journal reaches compactAfter lines, then the snapshot is rewritten, the journal starts over, and reopening gives the same store', () => {
    const dataFile = newDataFile();
    const store = open(dataFile, { compactAfter: 4 });
    mutate(store, 'a');
    mutate(store, 'b');
    assert.equal(journalLines(dataFile).length, 2, 'six mutations: compacted at the fourth, two since');
    assert.equal(snapshotOf(dataFile).nextNumber, FIRST + 2);
    assert.equal(snapshotOf(dataFile).version, 2);

    const reopened = open(dataFile);
    assert.deepEqual(contents(reopened), contents(store));
    assert.equal(snapshotOf(dataFile).nextNumber, FIRST + 2);
  });

  it('when compact() is called, then the data file alone holds the store and no temp file is left', () => {
    const dataFile = newDataFile();
    const store = open(dataFile);
    mutate(store, 'a');
    store.compact();
    assert.deepEqual(readdirSync(join(dataFile, '..')), ['changes.json']);
    assert.deepEqual(contents(open(dataFile)), contents(store));
  });

  it('when a crash lands between writing the snapshot and removing the journal, then replaying the journal over it changes nothing', () => {
    const dataFile = newDataFile();
    const store = open(dataFile);
    mutate(store, 'a');
    mutate(store, 'b');
    const journal = readFileSync(journalFile(dataFile), 'utf8');
    store.compact();
    writeFileSync(journalFile(dataFile), journal);

    const reopened = open(dataFile);
    assert.deepEqual(contents(reopened), contents(store));
    assert.equal(reopened.list().length, 2, 'a replayed create does not add its change twice');
    assert.equal(snapshotOf(dataFile).nextNumber, FIRST + 2);
  });

  it('when the last journal line was cut short by a crash, then it is dropped and the lines before it load', () => {
    for (const torn of ['{"op":"create","nextNumber":', '{"op":"update","change":{"sys_id":"x"}}', '\0\0\0\0\n']) {
      const dataFile = newDataFile();
      const store = open(dataFile);
      mutate(store, 'a');
      appendFileSync(journalFile(dataFile), torn);

      const reopened = open(dataFile);
      assert.deepEqual(contents(reopened), contents(store), `torn tail ${JSON.stringify(torn)}`);
      assert.equal(existsSync(journalFile(dataFile)), false, 'the torn line goes with the compacted journal');
    }
  });

  it('when a line before the last is corrupt, then the store refuses to open, naming the line, and leaves both files alone', () => {
    const dataFile = newDataFile();
    const store = open(dataFile);
    mutate(store, 'a');
    const [first, ...rest] = journalLines(dataFile);
    const damaged = [first, '{"op":"upd', ...rest].join('\n') + '\n';
    writeFileSync(journalFile(dataFile), damaged);
    const snapshot = readFileSync(dataFile, 'utf8');

    assert.throws(() => open(dataFile), /journal .*changes\.json\.journal is corrupt at line 2 of 4 \(not valid JSON\).*refuses to start/);
    assert.equal(readFileSync(journalFile(dataFile), 'utf8'), damaged);
    assert.equal(readFileSync(dataFile, 'utf8'), snapshot);
  });

  it('when a journal line is JSON but no entry, or changes a change nobody created, then the store refuses to open', () => {
    const dataFile = newDataFile();
    open(dataFile);
    const stray = open(newDataFile()).create({ short_description: 'elsewhere' }, AT);
    writeFileSync(journalFile(dataFile), `${JSON.stringify({ op: 'update', change: stray })}\n`);
    assert.throws(() => open(dataFile), /corrupt at line 1 of 1 \(it changes [0-9a-f]{32}, which no earlier record creates\)/);
    writeFileSync(journalFile(dataFile), `${JSON.stringify({ op: 'delete', change: stray })}\n{}\n`);
    assert.throws(() => open(dataFile), /corrupt at line 1 of 2 \(not a journal entry\)/);
  });

  it('when a journal line holds a change written before the planned window existed, then it replays with the window empty', () => {
    const dataFile = newDataFile();
    const { start_date: _start, end_date: _end, ...older } = open(newDataFile()).create({ short_description: 'older' }, AT);
    open(dataFile);
    writeFileSync(journalFile(dataFile), `${JSON.stringify({ op: 'create', nextNumber: FIRST + 1, change: older })}\n`);
    assert.deepEqual(open(dataFile).bySysId(older.sys_id), { ...older, start_date: '', end_date: '' });
  });

  it('when appending to the journal fails, then the mutation throws, memory is unchanged, and the store recovers once the disk does', () => {
    const dataFile = newDataFile();
    const store = open(dataFile);
    const kept = store.create({ short_description: 'kept' }, AT);
    const before = contents(store);
    rmSync(journalFile(dataFile));
    mkdirSync(journalFile(dataFile));

    assert.throws(() => store.create({ short_description: 'lost' }, AT), /EISDIR/);
    assert.throws(() => store.update(kept.sys_id, { comments: 'lost' }, AT), /EISDIR/);
    const approval = newApproval(kept.sys_id, 'jane.approver', 'cab', AT);
    assert.throws(() => store.saveDecision({ ...kept, approval: 'approved' }, approval), /EISDIR/);
    assert.deepEqual(contents(store), before);
    assert.equal(store.byNumber(changeNumber(FIRST + 1)), undefined);
    assert.equal(store.approvalBySysId(approval.sys_id), undefined);

    // What an append cut short (disk full mid-write) leaves: the next line must not be glued to it.
    rmSync(journalFile(dataFile), { recursive: true });
    writeFileSync(journalFile(dataFile), '{"op":"create","nextNu');
    const next = store.create({ short_description: 'after' }, AT);
    store.create({ short_description: 'after that' }, AT);
    assert.equal(next.number, changeNumber(FIRST + 1), 'the failed create did not use up a number');
    assert.deepEqual(contents(open(dataFile)), contents(store));
  });

  it('when a compaction fails, then the mutation still succeeds, the failure is logged, and the journal keeps the change', () => {
    const dataFile = newDataFile();
    const logs: string[] = [];
    const store = open(dataFile, { compactAfter: 2, log: (message) => logs.push(message) });
    // A directory where the snapshot goes: renaming a file over it fails.
    rmSync(dataFile);
    mkdirSync(join(dataFile, 'blocker'), { recursive: true });
    for (const label of ['a', 'b', 'c']) store.create({ short_description: label }, AT);
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /could not compact .*the journal keeps every change/);
    assert.deepEqual(readdirSync(join(dataFile, '..')).sort(), ['changes.json', 'changes.json.journal'], 'no temp file is left behind');

    rmSync(dataFile, { recursive: true });
    assert.deepEqual(contents(open(dataFile)), contents(store), 'the journal alone rebuilds the store');
  });

  it('when 10,000 changes are created, then reopening (snapshot plus journal) gives the same list and number sequence', () => {
    const dataFile = newDataFile();
    const store = open(dataFile, { compactAfter: 3_000 });
    for (let i = 0; i < 10_000; i++) store.create({ short_description: `Deploy ${i}`, correlation_id: `run-${i}` }, AT);
    assert.equal(journalLines(dataFile).length, 1_000, 'compacted at 3,000, 6,000 and 9,000');
    assert.equal(snapshotOf(dataFile).records.length, 9_000);

    const reopened = open(dataFile);
    assert.deepEqual(reopened.list(), store.list());
    assert.equal(snapshotOf(dataFile).nextNumber, FIRST + 10_000);
    assert.equal(reopened.byNumber(changeNumber(FIRST + 9_999))?.correlation_id, 'run-9999');
    assert.equal(reopened.create({ short_description: 'next' }, AT).number, changeNumber(FIRST + 10_000));
  });

  it('when a record is read or returned, then it is a copy: changing it does not change the store', () => {
    const store = open(newDataFile());
    const created = store.create({ short_description: 'original' }, AT);
    created.short_description = 'changed';
    const found = store.bySysId(created.sys_id);
    assert.ok(found);
    found.short_description = 'changed';
    const listed = store.list()[0];
    assert.ok(listed);
    listed.short_description = 'changed';
    assert.equal(store.byNumber(created.number)?.short_description, 'original');
    assert.throws(() => store.update(created.sys_id, (current) => ({ ...current, sys_id: 'f'.repeat(32) })), /may not change its sys_id/);
    assert.equal(store.bySysId('f'.repeat(32)), undefined);
  });
});
