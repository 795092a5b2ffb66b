/** The simulated change_request record and the rules for creating and updating one. */
import { randomBytes } from 'node:crypto';

export interface SimChange {
  sys_id: string;
  number: string;
  short_description: string;
  description: string;
  type: string;
  correlation_id: string;
  correlation_display: string;
  requested_by: string;
  assignment_group: string;
  approval: string;
  state: string;
  close_code: string;
  close_notes: string;
  sys_created_on: string;
  sys_updated_on: string;
  u_approved_by: string;
  comments: string;
  /** Planned window: glide date-time text (UTC) or ''. */
  start_date: string;
  end_date: string;
}

export const FIELDS = [
  'sys_id', 'number', 'short_description', 'description', 'type', 'correlation_id', 'correlation_display', 'requested_by',
  'assignment_group', 'approval', 'state', 'close_code', 'close_notes', 'sys_created_on', 'sys_updated_on', 'u_approved_by', 'comments',
  'start_date', 'end_date',
] as const satisfies readonly (keyof SimChange)[];
export type Field = (typeof FIELDS)[number];

export function isField(name: string): name is Field {
  return (FIELDS as readonly string[]).includes(name);
}

/** Integer columns on an instance: their text does not order as their values do ("-4" > "-3" as text). */
const INTEGER_FIELDS: readonly Field[] = ['state'];

/** Whether comparing the stored text orders records as an instance would (glide date-times do). */
export function ordersAsText(field: Field): boolean {
  return !INTEGER_FIELDS.includes(field);
}

/**
 * What an API caller may write. Approval fields belong to the approvers (the /sim endpoints) and
 * identity fields to the system; like ServiceNow, writes to fields not listed are ignored.
 */
export const WRITABLE_FIELDS = [
  'short_description', 'description', 'type', 'correlation_id', 'correlation_display', 'requested_by',
  'assignment_group', 'state', 'close_code', 'close_notes', 'comments', 'start_date', 'end_date',
] as const satisfies readonly Field[];
type WritableField = (typeof WRITABLE_FIELDS)[number];
export type ChangeFields = Partial<Record<WritableField, string>>;

export const STATES = { new: '-5', assess: '-4', authorize: '-3', scheduled: '-2', implement: '-1', review: '0', closed: '3', canceled: '4' } as const;
const STATE_CODES: readonly string[] = Object.values(STATES);
const TYPES = ['normal', 'standard', 'emergency'];
const CLOSE_CODES = ['', 'successful', 'successful_issues', 'unsuccessful'];
const DATE_TIME_FIELDS = ['start_date', 'end_date'] as const satisfies readonly WritableField[];

export class FieldError extends Error {
  override readonly name = 'FieldError';
}

/** Picks writable fields from a JSON body; numbers and booleans are stored as text, as ServiceNow does. */
export function readFields(body: Record<string, unknown>): ChangeFields {
  const fields: ChangeFields = {};
  for (const name of WRITABLE_FIELDS) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new FieldError(`${name} must be a string`);
    fields[name] = String(value);
  }
  if (fields.type !== undefined && !TYPES.includes(fields.type)) throw new FieldError(`type must be one of ${TYPES.join(', ')}`);
  if (fields.state !== undefined && !STATE_CODES.includes(fields.state)) throw new FieldError(`state must be one of ${STATE_CODES.join(', ')}`);
  if (fields.close_code !== undefined && !CLOSE_CODES.includes(fields.close_code)) throw new FieldError(`close_code must be one of ${CLOSE_CODES.filter(Boolean).join(', ')}`);
  for (const name of DATE_TIME_FIELDS) {
    const value = fields[name];
    if (value !== undefined && value !== '' && !isGlideDateTime(value)) throw new FieldError(`${name} must be a date-time YYYY-MM-DD HH:MM:SS (UTC) or empty`);
  }
  return fields;
}

/** ServiceNow's date-time format, in UTC. */
export function glideDateTime(at: Date): string {
  return at.toISOString().replace('T', ' ').slice(0, 19);
}

/** The shape alone would let 2025-02-30 through; a round trip through Date catches impossible dates. */
export function isGlideDateTime(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return false;
  const at = new Date(`${text.replace(' ', 'T')}Z`);
  return !Number.isNaN(at.getTime()) && glideDateTime(at) === text;
}

export function changeNumber(sequence: number): string {
  return `CHG${String(sequence).padStart(7, '0')}`;
}

export function newSysId(): string {
  return randomBytes(16).toString('hex');
}

/** What a caller may choose as sys_id on insert: the form ServiceNow generates itself. */
export function isSysId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}

/** Standard changes are pre-approved by definition; the others wait for approvers. */
export function newChange(sequence: number, fields: ChangeFields, at: Date, sysId: string = newSysId()): SimChange {
  const type = fields.type ?? 'normal';
  const preApproved = type === 'standard';
  const now = glideDateTime(at);
  return {
    sys_id: sysId,
    number: changeNumber(sequence),
    short_description: fields.short_description ?? '',
    description: fields.description ?? '',
    type,
    correlation_id: fields.correlation_id ?? '',
    correlation_display: fields.correlation_display ?? '',
    requested_by: fields.requested_by ?? '',
    assignment_group: fields.assignment_group ?? '',
    approval: preApproved ? 'approved' : 'requested',
    state: preApproved ? STATES.scheduled : STATES.new,
    close_code: fields.close_code ?? '',
    close_notes: fields.close_notes ?? '',
    sys_created_on: now,
    sys_updated_on: now,
    u_approved_by: '',
    comments: fields.comments ?? '',
    start_date: fields.start_date ?? '',
    end_date: fields.end_date ?? '',
  };
}

/** A change as an older data file holds it: written before the planned window existed. */
export type StoredChange = Omit<SimChange, 'start_date' | 'end_date'> & Partial<Pick<SimChange, 'start_date' | 'end_date'>>;

/** Records written before a field existed read it as empty, as a new column does on an instance. */
export function withDefaults(stored: StoredChange): SimChange {
  return { ...stored, start_date: stored.start_date ?? '', end_date: stored.end_date ?? '' };
}

/** `comments` is a journal in ServiceNow: writing to it adds an entry rather than replacing. */
export function appendComment(existing: string, comment: string): string {
  return existing ? `${existing}\n${comment}` : comment;
}

export function applyFields(change: SimChange, fields: ChangeFields, at: Date): SimChange {
  const { comments, ...rest } = fields;
  return {
    ...change,
    ...rest,
    comments: comments ? appendComment(change.comments, comments) : change.comments,
    sys_updated_on: glideDateTime(at),
  };
}
