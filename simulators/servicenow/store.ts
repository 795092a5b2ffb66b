/**
 * The simulator's records (changes and their approval records), kept in memory and written to one
 * JSON file after every change so they survive a restart. Writes go to a temp file renamed over the
 * old one, so a crash mid-write leaves the previous file intact.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimApproval } from './approval-records';
import type { QueryTerm } from './query';
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

export interface ReadonlyChangeStore {
  list(): SimChange[];
  bySysId(sysId: string): SimChange | undefined;
  byNumber(number: string): SimChange | undefined;
  /** Approval records in creation order: all, or those of one change. */
  approvals(changeSysId?: string): SimApproval[];
  approvalBySysId(sysId: string): SimApproval | undefined;
}

export type Match = readonly QueryTerm<Field>[];

export const DEFAULT_FIRST_NUMBER = 30001;

/** Thrown by create when the caller's sys_id is taken; the Table API answers 403 like an instance. */
export class DuplicateSysIdError extends Error {
  override readonly name = 'DuplicateSysIdError';
  constructor(readonly sysId: string) {
    super(`a record with sys_id ${sysId} already exists`);
  }
}

function load(dataFile: string, firstNumber: number): StoreFile {
  if (!existsSync(dataFile)) return { version: 2, nextNumber: firstNumber, records: [], approvals: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(dataFile, 'utf8'));
  } catch (error) {
    // Refuse rather than start empty: silently dropping records would hide a real problem.
    throw new Error(`ServiceNow simulator data file ${dataFile} is not valid JSON (${error instanceof Error ? error.message : String(error)}); move it away to start fresh`);
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

export class ChangeStore implements ReadonlyChangeStore {
  private constructor(
    private readonly dataFile: string,
    private data: StoreFile,
  ) {}

  /** Opening rewrites the file, so a version-1 file becomes version 2 at once. */
  static open(dataFile: string, firstNumber = DEFAULT_FIRST_NUMBER): ChangeStore {
    const store = new ChangeStore(dataFile, load(dataFile, firstNumber));
    store.persist();
    return store;
  }

  list(): SimChange[] {
    return this.data.records.map((r) => ({ ...r }));
  }

  find(match: Match, limit = Infinity): SimChange[] {
    const found = this.data.records.filter((r) => match.every(({ field, value }) => r[field] === value));
    return found.slice(0, limit).map((r) => ({ ...r }));
  }

  bySysId(sysId: string): SimChange | undefined {
    const found = this.data.records.find((r) => r.sys_id === sysId);
    return found && { ...found };
  }

  byNumber(number: string): SimChange | undefined {
    const found = this.data.records.find((r) => r.number === number);
    return found && { ...found };
  }

  approvals(changeSysId?: string): SimApproval[] {
    const found = changeSysId === undefined ? this.data.approvals : this.data.approvals.filter((a) => a.sysapproval === changeSysId);
    return found.map((a) => ({ ...a }));
  }

  approvalBySysId(sysId: string): SimApproval | undefined {
    const found = this.data.approvals.find((a) => a.sys_id === sysId);
    return found && { ...found };
  }

  /** `sysId`: the caller's choice (checked by the caller); throws DuplicateSysIdError when taken. */
  create(fields: ChangeFields, at = new Date(), sysId?: string): SimChange {
    if (sysId !== undefined && this.data.records.some((r) => r.sys_id === sysId)) throw new DuplicateSysIdError(sysId);
    const change = newChange(this.data.nextNumber, fields, at, sysId);
    this.commit({ ...this.data, nextNumber: this.data.nextNumber + 1, records: [...this.data.records, change] });
    return { ...change };
  }

  /** Returns undefined for an unknown sys_id. */
  update(sysId: string, change: (current: SimChange) => SimChange): SimChange | undefined;
  update(sysId: string, fields: ChangeFields, at?: Date): SimChange | undefined;
  update(sysId: string, how: ChangeFields | ((current: SimChange) => SimChange), at = new Date()): SimChange | undefined {
    const index = this.data.records.findIndex((r) => r.sys_id === sysId);
    const current = this.data.records[index];
    if (!current) return undefined;
    const next = typeof how === 'function' ? how({ ...current }) : applyFields(current, how, at);
    const records = [...this.data.records];
    records[index] = next;
    this.commit({ ...this.data, records });
    return { ...next };
  }

  /**
   * Writes an approver's record (new or updated, by sys_id) and the change it settles in one commit,
   * so the file never holds a decision without its effect on the change. False for an unknown change.
   */
  saveDecision(change: SimChange, approval: SimApproval): boolean {
    const index = this.data.records.findIndex((r) => r.sys_id === change.sys_id);
    if (index < 0) return false;
    const records = [...this.data.records];
    records[index] = { ...change };
    const existing = this.data.approvals.findIndex((a) => a.sys_id === approval.sys_id);
    const approvals = [...this.data.approvals];
    if (existing < 0) approvals.push({ ...approval });
    else approvals[existing] = { ...approval };
    this.commit({ ...this.data, records, approvals });
    return true;
  }

  /** A failed write rolls memory back, so memory never holds what the file does not. */
  private commit(next: StoreFile): void {
    const previous = this.data;
    this.data = next;
    try {
      this.persist();
    } catch (error) {
      this.data = previous;
      throw error;
    }
  }

  private persist(): void {
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const temp = `${this.dataFile}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.dataFile);
  }
}
