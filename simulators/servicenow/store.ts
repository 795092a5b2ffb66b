/**
 * The simulator's records (changes and their approval records), kept in memory and made durable in
 * two files so they survive a restart:
 *
 *   <dataFile>          the snapshot: the whole store as JSON (StoreFile, version 2), written to a
 *                       temp file renamed over the old one, so a crash mid-write leaves the previous
 *                       snapshot intact.
 *   <dataFile>.journal  every mutation since that snapshot, one JSON line each (JournalEntry),
 *                       appended before memory changes.
 *
 * Rewriting the whole snapshot after every mutation cost ~57 ms at 10,000 records; an append costs
 * the same at any size. The snapshot is still rewritten (compaction) on open, every `compactAfter`
 * journal lines and on compact() (the server's close), so that cost is paid rarely and a cleanly
 * stopped simulator leaves one file.
 *
 * Compaction renames the new snapshot in before it removes the journal, so a crash in between leaves
 * a journal the snapshot already contains. Replaying it is harmless: every entry carries whole
 * records, put in place by sys_id, and the number sequence only moves up.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimApproval } from './approval-records';
import { EVERYTHING, select, type EncodedQuery, type Page } from './query';
import { applyFields, newChange, withDefaults, type ChangeFields, type Field, type SimChange, type StoredChange } from './records';

/** Version 2 added `approvals`; version 1 files load as having none. */
interface StoreFile {
  version: 2;
  /** Sequence of the next change number; persisted so numbers never repeat after a restart. */
  nextNumber: number;
  records: SimChange[];
  approvals: SimApproval[];
}

interface StoredFile {
  version?: unknown;
  nextNumber?: unknown;
  records?: unknown;
  approvals?: unknown;
}

/**
 * One line of the journal. Each carries the whole records it leaves behind (not the fields it
 * changed), so applying a line twice, or over a snapshot that already holds it, changes nothing.
 */
type JournalEntry =
  /** `nextNumber`: the sequence after this change's number. */
  | { op: 'create'; nextNumber: number; change: SimChange }
  | { op: 'update'; change: SimChange }
  /** The approver's record (new or updated) and the change it settles, in one line so neither lands alone. */
  | { op: 'decision'; change: SimChange; approval: SimApproval };

export interface ReadonlyChangeStore {
  list(): SimChange[];
  bySysId(sysId: string): SimChange | undefined;
  byNumber(number: string): SimChange | undefined;
  /** Approval records in creation order: all, or those of one change. */
  approvals(changeSysId?: string): SimApproval[];
  approvalBySysId(sysId: string): SimApproval | undefined;
}

export interface ChangeStoreOptions {
  /**
   * Journal lines after which the snapshot is rewritten. Larger: rarer rewrites (each as long as
   * before) but a longer replay when the simulator starts after a crash.
   */
  compactAfter?: number;
  /** Told when a compaction fails: the journal still holds every change, so the store carries on. */
  log?: (message: string) => void;
}

/** A parsed sysparm_query on change_request: conditions and sort order. */
export type Match = EncodedQuery<Field>;

export const DEFAULT_FIRST_NUMBER = 30001;

export const DEFAULT_COMPACT_AFTER = 5000;

export function readField(change: SimChange, field: Field): string {
  return change[field];
}

/** Where the journal of a data file lives. */
export function journalFile(dataFile: string): string {
  return `${dataFile}.journal`;
}

/** Thrown by create when the caller's sys_id is taken; the Table API answers 403 like an instance. */
export class DuplicateSysIdError extends Error {
  override readonly name = 'DuplicateSysIdError';
  constructor(readonly sysId: string) {
    super(`a record with sys_id ${sysId} already exists`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function itemAt<T>(items: readonly T[], index: number | undefined): T | undefined {
  return index === undefined ? undefined : items[index];
}

/**
 * The records in memory with their indexes. Every mutation, live or replayed from the journal, goes
 * through apply(), so what a restart rebuilds is what the running store held.
 */
class Records {
  readonly changes: SimChange[] = [];
  readonly approvals: SimApproval[] = [];
  private readonly changeAt = new Map<string, number>();
  private readonly numberAt = new Map<string, number>();
  private readonly approvalAt = new Map<string, number>();
  /** Positions in `approvals` per change sys_id, ascending, so creation order needs no sort. */
  private readonly approvalsAt = new Map<string, number[]>();

  private constructor(public nextNumber: number) {}

  static from(file: StoreFile): Records {
    const records = new Records(file.nextNumber);
    for (const change of file.records) records.addChange(change);
    for (const approval of file.approvals) records.addApproval(approval);
    return records;
  }

  change(sysId: string): SimChange | undefined {
    return itemAt(this.changes, this.changeAt.get(sysId));
  }

  changeByNumber(number: string): SimChange | undefined {
    return itemAt(this.changes, this.numberAt.get(number));
  }

  approval(sysId: string): SimApproval | undefined {
    return itemAt(this.approvals, this.approvalAt.get(sysId));
  }

  approvalsOf(changeSysId: string): SimApproval[] {
    return (this.approvalsAt.get(changeSysId) ?? []).flatMap((index) => itemAt(this.approvals, index) ?? []);
  }

  /** False when the entry changes a change that does not exist (only a damaged journal can ask that). */
  apply(entry: JournalEntry): boolean {
    switch (entry.op) {
      case 'create':
        this.putChange(entry.change);
        this.nextNumber = Math.max(this.nextNumber, entry.nextNumber);
        return true;
      case 'update':
        return this.replaceChange(entry.change);
      case 'decision':
        if (!this.replaceChange(entry.change)) return false;
        this.putApproval(entry.approval);
        return true;
    }
  }

  /** The records themselves, not copies: only for serialising at once. */
  snapshot(): StoreFile {
    return { version: 2, nextNumber: this.nextNumber, records: this.changes, approvals: this.approvals };
  }

  /** A file written before sys_ids were checked could repeat one; the first keeps it, as a linear search found. */
  private addChange(change: SimChange): void {
    const index = this.changes.push(change) - 1;
    if (!this.changeAt.has(change.sys_id)) this.changeAt.set(change.sys_id, index);
    if (!this.numberAt.has(change.number)) this.numberAt.set(change.number, index);
  }

  /** Replaying a create the snapshot already holds must not add it twice. */
  private putChange(change: SimChange): void {
    if (!this.replaceChange(change)) this.addChange(change);
  }

  private replaceChange(change: SimChange): boolean {
    const index = this.changeAt.get(change.sys_id);
    const previous = itemAt(this.changes, index);
    if (index === undefined || previous === undefined) return false;
    this.changes[index] = change;
    if (previous.number !== change.number) this.moveNumber(previous.number, change.number, index);
    return true;
  }

  /** Only an update function that rewrites `number` gets here; callers never do, but the index must not lie. */
  private moveNumber(from: string, to: string, index: number): void {
    if (this.numberAt.get(from) === index) this.numberAt.delete(from);
    if (!this.numberAt.has(to)) this.numberAt.set(to, index);
  }

  private addApproval(approval: SimApproval): void {
    const index = this.approvals.push(approval) - 1;
    if (!this.approvalAt.has(approval.sys_id)) this.approvalAt.set(approval.sys_id, index);
    this.indexApprovalOf(approval, index);
  }

  private indexApprovalOf(approval: SimApproval, index: number): void {
    const ofChange = this.approvalsAt.get(approval.sysapproval);
    if (ofChange) ofChange.push(index);
    else this.approvalsAt.set(approval.sysapproval, [index]);
  }

  private putApproval(approval: SimApproval): void {
    const index = this.approvalAt.get(approval.sys_id);
    const previous = itemAt(this.approvals, index);
    if (index === undefined || previous === undefined) {
      this.addApproval(approval);
      return;
    }
    this.approvals[index] = approval;
    // Decisions never move a record to another change; if one did, rebuilding keeps the order right.
    if (previous.sysapproval !== approval.sysapproval) this.reindexApprovalsOf();
  }

  private reindexApprovalsOf(): void {
    this.approvalsAt.clear();
    this.approvals.forEach((approval, index) => this.indexApprovalOf(approval, index));
  }
}

function readSnapshot(dataFile: string, firstNumber: number): StoreFile {
  if (!existsSync(dataFile)) return { version: 2, nextNumber: firstNumber, records: [], approvals: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(dataFile, 'utf8'));
  } catch (error) {
    // Refuse rather than start empty: silently dropping records would hide a real problem.
    throw new Error(`ServiceNow simulator data file ${dataFile} is not valid JSON (${messageOf(error)}); move it away to start fresh`);
  }
  const file = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as StoredFile;
  const approvals = file.version === 1 ? [] : file.approvals;
  if ((file.version !== 1 && file.version !== 2) || typeof file.nextNumber !== 'number' || !Array.isArray(file.records) || !Array.isArray(approvals)) {
    throw new Error(`ServiceNow simulator data file ${dataFile} is not a simulator store (version 1 or 2); move it away to start fresh`);
  }
  return {
    version: 2,
    nextNumber: file.nextNumber,
    records: (file.records as StoredChange[]).map(withDefaults),
    approvals: approvals as SimApproval[],
  };
}

function hasTextFields(value: unknown, fields: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return fields.every((field) => typeof record[field] === 'string');
}

/**
 * The entry, or undefined when the value is not one. Only what the indexes need is checked; the
 * records are read as leniently as the snapshot's, so a journal left by an older simulator (fewer
 * fields) still replays after an upgrade.
 */
function asEntry(value: unknown): JournalEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as { op?: unknown; nextNumber?: unknown; change?: unknown; approval?: unknown };
  if (!hasTextFields(entry.change, ['sys_id', 'number'])) return undefined;
  const change = withDefaults(entry.change as StoredChange);
  if (entry.op === 'update') return { op: 'update', change };
  if (entry.op === 'create' && typeof entry.nextNumber === 'number' && Number.isSafeInteger(entry.nextNumber)) return { op: 'create', nextNumber: entry.nextNumber, change };
  if (entry.op === 'decision' && hasTextFields(entry.approval, ['sys_id', 'sysapproval'])) return { op: 'decision', change, approval: entry.approval as SimApproval };
  return undefined;
}

function corruptJournal(journal: string, line: number, lines: number, reason: string): Error {
  return new Error(
    `ServiceNow simulator journal ${journal} is corrupt at line ${line} of ${lines} (${reason}); only its last line may be torn by a crash, ` +
      'so the simulator refuses to start rather than drop the changes recorded after it. Repair the line, or move the journal away (losing its changes) to start from the data file alone',
  );
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Applies the journal's lines in order. Only the last line can be cut short by a crash mid-append
 * (unterminated, or garbage where the OS had not yet written the data); its append never returned,
 * so no caller was told it succeeded, and it is dropped. A bad line before it means the file was
 * damaged some other way, and guessing past it could lose or invent records.
 */
function replayJournal(journal: string, records: Records): void {
  if (!existsSync(journal)) return;
  const lines = readFileSync(journal, 'utf8').split('\n');
  // Every whole line ends in a newline: what follows the last one is '' or an append cut short.
  const cutShort = lines.pop() !== '';
  lines.forEach((line, index) => {
    const parsed = parseLine(line);
    const last = !cutShort && index === lines.length - 1;
    if (parsed === undefined && last) return;
    if (parsed === undefined) throw corruptJournal(journal, index + 1, lines.length, 'not valid JSON');
    const entry = asEntry(parsed);
    if (!entry) throw corruptJournal(journal, index + 1, lines.length, 'not a journal entry');
    if (!records.apply(entry)) throw corruptJournal(journal, index + 1, lines.length, `it changes ${entry.change.sys_id}, which no earlier record creates`);
  });
}

function load(dataFile: string, firstNumber: number): Records {
  const records = Records.from(readSnapshot(dataFile, firstNumber));
  replayJournal(journalFile(dataFile), records);
  return records;
}

/** Temp file renamed over the old one: a crash mid-write leaves the previous snapshot whole. */
function writeSnapshot(dataFile: string, file: StoreFile): void {
  mkdirSync(dirname(dataFile), { recursive: true });
  const temp = `${dataFile}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, dataFile);
  } catch (error) {
    // A compaction that fails is tried again later; each try must not leave a temp file behind.
    rmSync(temp, { force: true });
    throw error;
  }
}

export class ChangeStore implements ReadonlyChangeStore {
  private readonly journal: string;
  private readonly compactAfter: number;
  private readonly log: (message: string) => void;
  /** Lines appended since the last compaction. */
  private journalLines = 0;
  /** Moves on after a failed compaction, so a failing disk is not hit with a whole rewrite per mutation. */
  private compactAt: number;
  /**
   * Set when an append failed: the journal may end in part of a line, which the next line would turn
   * into a corrupt one mid-file. The next mutation compacts first, which drops that journal.
   */
  private journalSuspect = false;

  private constructor(
    private readonly dataFile: string,
    private readonly records: Records,
    options: ChangeStoreOptions,
  ) {
    this.journal = journalFile(dataFile);
    this.compactAfter = options.compactAfter ?? DEFAULT_COMPACT_AFTER;
    this.log = options.log ?? (() => {});
    this.compactAt = this.compactAfter;
  }

  /**
   * Loads the snapshot, replays the journal and compacts the two into a fresh snapshot, so a
   * version-1 file becomes version 2 at once and every run starts with an empty journal.
   */
  static open(dataFile: string, firstNumber = DEFAULT_FIRST_NUMBER, options: ChangeStoreOptions = {}): ChangeStore {
    const { compactAfter } = options;
    if (compactAfter !== undefined && (!Number.isSafeInteger(compactAfter) || compactAfter < 1)) {
      throw new Error(`ServiceNow simulator compactAfter must be a positive integer, not ${compactAfter}`);
    }
    const store = new ChangeStore(dataFile, load(dataFile, firstNumber), options);
    store.compact();
    return store;
  }

  list(): SimChange[] {
    return this.records.changes.map((r) => ({ ...r }));
  }

  /** Matching records sorted by the query (creation order for ties), then the page of them. */
  find(match: Match, page: Page = EVERYTHING): SimChange[] {
    return select(this.records.changes, match, readField, page).map((r) => ({ ...r }));
  }

  bySysId(sysId: string): SimChange | undefined {
    const found = this.records.change(sysId);
    return found && { ...found };
  }

  byNumber(number: string): SimChange | undefined {
    const found = this.records.changeByNumber(number);
    return found && { ...found };
  }

  approvals(changeSysId?: string): SimApproval[] {
    const found = changeSysId === undefined ? this.records.approvals : this.records.approvalsOf(changeSysId);
    return found.map((a) => ({ ...a }));
  }

  approvalBySysId(sysId: string): SimApproval | undefined {
    const found = this.records.approval(sysId);
    return found && { ...found };
  }

  /** `sysId`: the caller's choice (checked by the caller); throws DuplicateSysIdError when taken. */
  create(fields: ChangeFields, at = new Date(), sysId?: string): SimChange {
    const change = newChange(this.records.nextNumber, fields, at, sysId);
    // Also guards a generated sys_id: replaying the create would otherwise overwrite the older record.
    if (this.records.change(change.sys_id)) throw new DuplicateSysIdError(change.sys_id);
    this.commit({ op: 'create', nextNumber: this.records.nextNumber + 1, change });
    return { ...change };
  }

  /** Returns undefined for an unknown sys_id. */
  update(sysId: string, change: (current: SimChange) => SimChange): SimChange | undefined;
  update(sysId: string, fields: ChangeFields, at?: Date): SimChange | undefined;
  update(sysId: string, how: ChangeFields | ((current: SimChange) => SimChange), at = new Date()): SimChange | undefined {
    const current = this.records.change(sysId);
    if (!current) return undefined;
    // A copy: the caller's function may keep (and later change) the object it returned.
    const next = { ...(typeof how === 'function' ? how({ ...current }) : applyFields(current, how, at)) };
    // The journal finds the record again by sys_id; a new one would make the line unreplayable.
    if (next.sys_id !== sysId) throw new Error(`an update of change ${sysId} may not change its sys_id (to ${next.sys_id})`);
    this.commit({ op: 'update', change: next });
    return { ...next };
  }

  /**
   * Writes an approver's record (new or updated, by sys_id) and the change it settles in one commit,
   * so the files never hold a decision without its effect on the change. False for an unknown change.
   */
  saveDecision(change: SimChange, approval: SimApproval): boolean {
    if (!this.records.change(change.sys_id)) return false;
    this.commit({ op: 'decision', change: { ...change }, approval: { ...approval } });
    return true;
  }

  /**
   * Rewrites the snapshot from memory, then drops the journal it now contains. The server calls it
   * on close, so a cleanly stopped simulator leaves the whole store in the data file alone.
   */
  compact(): void {
    writeSnapshot(this.dataFile, this.records.snapshot());
    // Only after the rename: a crash in between leaves a journal the snapshot already holds, which replays harmlessly.
    rmSync(this.journal, { force: true });
    this.journalLines = 0;
    this.compactAt = this.compactAfter;
    this.journalSuspect = false;
  }

  /** Disk first, then memory: a failed write throws before memory changes, so memory never holds what the files do not. */
  private commit(entry: JournalEntry): void {
    if (this.journalSuspect) this.compact();
    this.append(entry);
    this.records.apply(entry);
    this.journalLines += 1;
    if (this.journalLines >= this.compactAt) this.compactWhenDue();
  }

  private append(entry: JournalEntry): void {
    try {
      // Synchronous, so the line is in the file (the OS's cache, as the snapshot's rename was) before the caller hears of success.
      appendFileSync(this.journal, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    } catch (error) {
      this.journalSuspect = true;
      throw error;
    }
  }

  /** The mutation is already safe in the journal, so a failed compaction is logged, not thrown, and tried again later. */
  private compactWhenDue(): void {
    try {
      this.compact();
    } catch (error) {
      this.compactAt = this.journalLines + this.compactAfter;
      this.log(`ServiceNow simulator could not compact ${this.dataFile} (${messageOf(error)}); the journal keeps every change, trying again after ${this.compactAfter} more`);
    }
  }
}
