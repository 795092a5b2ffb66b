/**
 * The Table API parameters the platform uses. Queries are the subset of ServiceNow's encoded
 * queries it sends; anything else is refused loudly. A real instance would quietly match too much
 * (or return fields nobody asked for), and a simulator that hides a wrong query only moves the
 * surprise to production.
 *
 * The subset, as ServiceNow reads it:
 *   fieldOPvalue         a condition; OP is =, !=, >=, >, <=, < or IN (`approvalINapproved,rejected`)
 *   a^b                  a AND b
 *   a^b^ORc              a AND (b OR c): ^OR joins the condition to the one just before it
 *   ORDERBYf, ORDERBYDESCf  sort by f, ascending or descending; several sort in the order given
 * Not understood (400): ^NQ, ^^ (an escaped caret), other operators, javascript: values.
 */
import type { Request } from 'express';

/** Each compares the stored text with the value's text (code-unit order). */
export const COMPARISONS = ['!=', '>=', '<=', '=', '>', '<'] as const;
export type Comparison = (typeof COMPARISONS)[number];
export type Operator = Comparison | 'IN';

/** Orderings compare text, which is right only where text order is value order. */
const ORDERING: readonly Operator[] = ['>=', '<=', '>', '<'];

/** One condition. `IN` carries its comma-separated values already split. */
export type QueryTerm<F extends string> =
  | { field: F; operator: Comparison; value: string }
  | { field: F; operator: 'IN'; values: readonly string[] };

export interface OrderBy<F extends string> {
  field: F;
  descending: boolean;
}

export interface EncodedQuery<F extends string> {
  /** AND of OR-groups: `a^b^ORc` is [[a], [b, c]]. Empty: every record. */
  where: readonly (readonly QueryTerm<F>[])[];
  /** Primary sort first; records equal on every key keep their stored order. */
  orderBy: readonly OrderBy<F>[];
}

export type ParsedQuery<F extends string> = { ok: true; query: EncodedQuery<F> } | { ok: false; reason: string };

export interface QuerySyntax<F extends string> {
  /** Off: only `field=value` terms joined by `^`. On: the other operators, IN, ^OR and ORDERBY too. */
  extended: boolean;
  /** Fields whose stored text orders as their values do; <, >, <=, >= and ORDERBY on others are refused. */
  ordersAsText?: (field: F) => boolean;
}

const EQUALITY_ONLY = { extended: false } as const;

/** What the simulator can say about a term it will not guess at. */
const UNDERSTOOD = 'the simulator understands fieldOPvalue (OP: =, !=, >=, >, <=, <, IN) joined by ^ or ^OR, and ORDERBY/ORDERBYDESC';
const UNDERSTOOD_HERE = 'this table understands field=value joined by ^';

type Step<T> = { ok: true; value: T } | { ok: false; reason: string };

/** `isField` says which names the table knows; `syntax` how much of the grammar it accepts. */
export function parseEncodedQuery<F extends string>(
  query: string | undefined,
  isField: (name: string) => name is F,
  syntax: QuerySyntax<F> = EQUALITY_ONLY,
): ParsedQuery<F> {
  const terms = splitTerms(query ?? '');
  if (!terms.ok) return terms;
  const where: QueryTerm<F>[][] = [];
  const orderBy: OrderBy<F>[] = [];
  let previousWasCondition = false;
  for (const term of terms.value) {
    const kind = termKind(term);
    if (kind.connective !== 'and' && !syntax.extended) return { ok: false, reason: `unsupported query term "${term}": ${UNDERSTOOD_HERE}` };
    if (kind.connective === 'order') {
      const order = parseOrderBy(kind.rest, isField, syntax);
      if (!order.ok) return order;
      orderBy.push(order.value);
      previousWasCondition = false;
      continue;
    }
    const condition = parseCondition(kind.rest, isField, syntax);
    if (!condition.ok) return condition;
    const group = where[where.length - 1];
    if (kind.connective === 'or') {
      // ^OR after an ORDERBY or at the start has no condition to join; ServiceNow's reading is unclear.
      if (!previousWasCondition || !group) return { ok: false, reason: `"^${term}" must follow a condition` };
      group.push(condition.value);
    } else {
      where.push([condition.value]);
    }
    previousWasCondition = true;
  }
  return { ok: true, query: { where, orderBy } };
}

/**
 * Splits on `^`. A leading or trailing `^` is harmless; an empty term inside is `^^`, which
 * ServiceNow reads as a literal caret in a value, so splitting there would change the query.
 */
function splitTerms(query: string): Step<string[]> {
  // Only blank queries are trimmed: spaces inside a value are part of it.
  if (query.trim() === '') return { ok: true, value: [] };
  const terms = query.replace(/^\^+/, '').replace(/\^+$/, '').split('^');
  if (terms.includes('')) return { ok: false, reason: '"^^" (a literal ^ in a value) is not supported by the simulator' };
  for (const term of terms) {
    // ^NQ would OR whole queries together; matching it as a condition would match too little.
    if (term.startsWith('NQ')) return { ok: false, reason: `"^${term}": ^NQ (new query) is not supported by the simulator` };
  }
  return { ok: true, value: terms };
}

/** ORDERBY is checked before OR: "ORDERBY…" also starts with "OR". Field names are lowercase, so the prefixes cannot clash with one. */
function termKind(term: string): { connective: 'and' | 'or' | 'order'; rest: string } {
  if (term.startsWith('ORDERBY')) return { connective: 'order', rest: term.slice('ORDERBY'.length) };
  if (term.startsWith('OR')) return { connective: 'or', rest: term.slice('OR'.length) };
  return { connective: 'and', rest: term };
}

function parseOrderBy<F extends string>(rest: string, isField: (name: string) => name is F, syntax: QuerySyntax<F>): Step<OrderBy<F>> {
  const descending = rest.startsWith('DESC');
  const field = descending ? rest.slice('DESC'.length) : rest;
  if (!isField(field)) return { ok: false, reason: `unknown field "${field}" in ORDERBY of sysparm_query` };
  if (syntax.ordersAsText && !syntax.ordersAsText(field)) return { ok: false, reason: notTextOrdered(field) };
  return { ok: true, value: { field, descending } };
}

/** A field name as ServiceNow spells one: lowercase, with dots for dot-walks. */
const FIELD_NAME = /^[a-z_][a-z0-9_.]*/;

function parseCondition<F extends string>(term: string, isField: (name: string) => name is F, syntax: QuerySyntax<F>): Step<QueryTerm<F>> {
  const name = FIELD_NAME.exec(term)?.[0];
  if (name === undefined) return { ok: false, reason: `unsupported query term "${term}": ${syntax.extended ? UNDERSTOOD : UNDERSTOOD_HERE}` };
  if (!isField(name)) return { ok: false, reason: `unknown field "${name}" in sysparm_query` };
  const afterField = term.slice(name.length);
  const operator = operatorAt(afterField);
  if (operator === undefined || (!syntax.extended && operator !== '=')) {
    return { ok: false, reason: `unsupported operator in query term "${term}": ${syntax.extended ? UNDERSTOOD : UNDERSTOOD_HERE}` };
  }
  const value = afterField.slice(operator.length);
  const refusal = refuseValue(name, operator, value, syntax);
  if (refusal !== undefined) return { ok: false, reason: refusal };
  if (operator === 'IN') return { ok: true, value: { field: name, operator, values: value.split(',') } };
  return { ok: true, value: { field: name, operator, value } };
}

/**
 * The operator the text starts with. COMPARISONS lists two-character ones first so `>=` is not
 * read as `>`. ServiceNow also has INSTANCEOF, which must not be read as IN with "STANCEOF…".
 */
function operatorAt(text: string): Operator | undefined {
  const comparison = COMPARISONS.find((op) => text.startsWith(op));
  if (comparison) return comparison;
  if (text.startsWith('IN') && !text.startsWith('INSTANCEOF')) return 'IN';
  return undefined;
}

/** Values an instance would interpret differently from the simulator's literal text comparison. */
function refuseValue<F extends string>(field: F, operator: Operator, value: string, syntax: QuerySyntax<F>): string | undefined {
  if (value.startsWith('javascript:')) return `"${field}${operator}${value}": javascript: values are evaluated by an instance; the simulator compares text`;
  if (operator === 'IN' && value === '') return `"${field}IN" needs at least one value`;
  if (!ORDERING.includes(operator)) return undefined;
  if (value === '') return `"${field}${operator}" needs a value to compare with`;
  if (syntax.ordersAsText && !syntax.ordersAsText(field)) return notTextOrdered(field);
  return undefined;
}

function notTextOrdered(field: string): string {
  return `"${field}" is not ordered as text (an instance orders it by value); the simulator refuses to order by it`;
}

/** Reads one field of a record as the stored text. */
export type FieldReader<R, F extends string> = (record: R, field: F) => string;

function holds<R, F extends string>(record: R, term: QueryTerm<F>, read: FieldReader<R, F>): boolean {
  const stored = read(record, term.field);
  switch (term.operator) {
    case 'IN':
      return term.values.includes(stored);
    case '=':
      return stored === term.value;
    case '!=':
      return stored !== term.value;
    case '>=':
      return stored >= term.value;
    case '>':
      return stored > term.value;
    case '<=':
      return stored <= term.value;
    case '<':
      return stored < term.value;
  }
}

/** The query's conditions as a predicate: every group holds, and in a group at least one term. */
export function matcher<R, F extends string>(query: EncodedQuery<F>, read: FieldReader<R, F>): (record: R) => boolean {
  return (record) => query.where.every((group) => group.some((term) => holds(record, term, read)));
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Sorted copy; Array.prototype.sort is stable, so ties keep the order they came in. */
export function ordered<R, F extends string>(records: readonly R[], orderBy: readonly OrderBy<F>[], read: FieldReader<R, F>): R[] {
  const compare = (a: R, b: R): number => {
    for (const { field, descending } of orderBy) {
      const order = compareText(read(a, field), read(b, field));
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  };
  return [...records].sort(compare);
}

export interface Page {
  offset: number;
  limit: number;
}

export const EVERYTHING: Page = { offset: 0, limit: Infinity };

/** What a list request answers: the matching records, sorted, then the requested page of them. */
export function select<R, F extends string>(records: readonly R[], query: EncodedQuery<F>, read: FieldReader<R, F>, page: Page = EVERYTHING): R[] {
  const sorted = ordered(records.filter(matcher(query, read)), query.orderBy, read);
  return sorted.slice(page.offset, page.offset + page.limit);
}

export type ParsedLimit = { ok: true; limit: number } | { ok: false; reason: string };

export function parseLimit(raw: string | undefined): ParsedLimit {
  if (raw === undefined || raw === '') return { ok: true, limit: Infinity };
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) return { ok: false, reason: 'sysparm_limit must be a positive integer' };
  return { ok: true, limit: Number(raw) };
}

export type ParsedOffset = { ok: true; offset: number } | { ok: false; reason: string };

/** `sysparm_offset`: how many matching records to skip; 0 when absent. */
export function parseOffset(raw: string | undefined): ParsedOffset {
  if (raw === undefined || raw === '') return { ok: true, offset: 0 };
  if (!/^[0-9]+$/.test(raw)) return { ok: false, reason: 'sysparm_offset must be a non-negative integer' };
  return { ok: true, offset: Number(raw) };
}

/** `fields` undefined: every stored field, as an instance answers without sysparm_fields. */
export type ParsedFields<F extends string> = { ok: true; fields: F[] | undefined } | { ok: false; reason: string };

/** `sysparm_fields`: comma-separated names, answered under exactly those names. */
export function parseFieldList<F extends string>(raw: string | undefined, isField: (name: string) => name is F): ParsedFields<F> {
  if (raw === undefined || raw.trim() === '') return { ok: true, fields: undefined };
  const fields: F[] = [];
  for (const name of raw.split(',').map((n) => n.trim())) {
    if (name === '') continue;
    if (!isField(name)) return { ok: false, reason: `unknown field "${name}" in sysparm_fields` };
    if (!fields.includes(name)) fields.push(name);
  }
  return { ok: true, fields: fields.length > 0 ? fields : undefined };
}

/** The record as the Table API returns it: whole, or keyed by exactly the names the caller asked for. */
export function project<R extends object, F extends string>(record: R, fields: readonly F[] | undefined, read: FieldReader<R, F>): R | Record<string, string> {
  if (!fields) return { ...record };
  return Object.fromEntries(fields.map((field) => [field, read(record, field)]));
}

/** Express 5 yields string[] for a repeated parameter; ServiceNow takes one value per parameter (null: repeated). */
export function single(req: Request, name: string): string | undefined | null {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

export type ParsedParameters<P extends string> = { ok: true; values: Partial<Record<P, string>> } | { ok: false; reason: string };

/** Reads each named parameter once; a repeated one is refused rather than one of its values picked. */
export function singleParameters<P extends string>(req: Request, names: readonly P[]): ParsedParameters<P> {
  const values: Partial<Record<P, string>> = {};
  for (const name of names) {
    const value = single(req, name);
    if (value === null) return { ok: false, reason: `${name} may be given once` };
    if (value !== undefined) values[name] = value;
  }
  return { ok: true, values };
}
