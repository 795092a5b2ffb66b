/**
 * The simulator's records, kept in memory and written to one JSON file after every change so they
 * survive a restart. Writes go to a temp file renamed over the old one, so a crash mid-write
 * leaves the previous file intact.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyFields, newChange, type ChangeFields, type Field, type SimChange } from './records';

interface StoreFile {
  version: 1;
  /** Sequence of the next change number; persisted so numbers never repeat after a restart. */
  nextNumber: number;
  records: SimChange[];
}

export interface ReadonlyChangeStore {
  list(): SimChange[];
  bySysId(sysId: string): SimChange | undefined;
  byNumber(number: string): SimChange | undefined;
}

export type Match = readonly { field: Field; value: string }[];

export const DEFAULT_FIRST_NUMBER = 30001;

function load(dataFile: string, firstNumber: number): StoreFile {
  if (!existsSync(dataFile)) return { version: 1, nextNumber: firstNumber, records: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(dataFile, 'utf8'));
  } catch (error) {
    // Refuse rather than start empty: silently dropping records would hide a real problem.
    throw new Error(`ServiceNow simulator data file ${dataFile} is not valid JSON (${error instanceof Error ? error.message : String(error)}); move it away to start fresh`);
  }
  const file = parsed as Partial<StoreFile>;
  if (file.version !== 1 || typeof file.nextNumber !== 'number' || !Array.isArray(file.records)) {
    throw new Error(`ServiceNow simulator data file ${dataFile} is not a simulator store (version 1); move it away to start fresh`);
  }
  return { version: 1, nextNumber: file.nextNumber, records: file.records };
}

export class ChangeStore implements ReadonlyChangeStore {
  private constructor(
    private readonly dataFile: string,
    private data: StoreFile,
  ) {}

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

  create(fields: ChangeFields, at = new Date()): SimChange {
    const change = newChange(this.data.nextNumber, fields, at);
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
