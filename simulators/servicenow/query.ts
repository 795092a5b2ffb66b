/**
 * The subset of ServiceNow's encoded queries the platform uses: `field=value` terms joined by `^`
 * (AND). Anything else is refused loudly; a real instance would quietly match too much, and a
 * simulator that hides a wrong query only moves the surprise to production.
 */
import { isField } from './records';
import type { Match } from './store';

export type ParsedQuery = { ok: true; match: Match } | { ok: false; reason: string };

export function parseEncodedQuery(query: string | undefined): ParsedQuery {
  if (query === undefined || query.trim() === '') return { ok: true, match: [] };
  const match: { field: (Match[number])['field']; value: string }[] = [];
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
