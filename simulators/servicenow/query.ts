/**
 * The Table API parameters the platform uses. Queries are the subset of ServiceNow's encoded
 * queries it sends: `field=value` terms joined by `^` (AND). Anything else is refused loudly; a real
 * instance would quietly match too much (or return fields nobody asked for), and a simulator that
 * hides a wrong query only moves the surprise to production.
 */
import type { Request } from 'express';

export interface QueryTerm<F extends string> {
  field: F;
  value: string;
}

export type ParsedQuery<F extends string> = { ok: true; match: QueryTerm<F>[] } | { ok: false; reason: string };

/** `isField` says which names the table knows. */
export function parseEncodedQuery<F extends string>(query: string | undefined, isField: (name: string) => name is F): ParsedQuery<F> {
  if (query === undefined || query.trim() === '') return { ok: true, match: [] };
  const match: QueryTerm<F>[] = [];
  for (const term of query.split('^')) {
    if (term === '') continue;
    const eq = term.indexOf('=');
    if (eq <= 0) return { ok: false, reason: `unsupported query term "${term}": the simulator understands field=value joined by ^` };
    const field = term.slice(0, eq);
    if (!isField(field)) return { ok: false, reason: `unknown field "${field}" in sysparm_query` };
    match.push({ field, value: term.slice(eq + 1) });
  }
  return { ok: true, match };
}

export type ParsedLimit = { ok: true; limit: number } | { ok: false; reason: string };

export function parseLimit(raw: string | undefined): ParsedLimit {
  if (raw === undefined || raw === '') return { ok: true, limit: Infinity };
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) return { ok: false, reason: 'sysparm_limit must be a positive integer' };
  return { ok: true, limit: Number(raw) };
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

/** Express 5 yields string[] for a repeated parameter; ServiceNow takes one value per parameter (null: repeated). */
export function single(req: Request, name: string): string | undefined | null {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}
