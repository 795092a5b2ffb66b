/** Percentiles, tables and small concurrency helpers for the bench. */

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles of `samples` (milliseconds, or whatever unit they are in). */
export function distribution(samples: readonly number[]): Distribution | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    min: round(sorted[0] ?? NaN),
    max: round(sorted.at(-1) ?? NaN),
  };
}

/** One line of the printed table and of latest.json: the platform and its floor side by side. */
export interface Row {
  scenario: string;
  /** What one sample is, e.g. "POST → succeeded". */
  measures: string;
  platform?: Distribution;
  floor?: Distribution;
  /** Runs or requests per second, where the scenario is about rate. */
  platformRate?: number;
  floorRate?: number;
  /** Peak RSS of the worker (or API, where noted) in MiB, where measurable. */
  platformRssMiB?: number;
  floorRssMiB?: number;
  note?: string;
  /** More numbers of the scenario, for latest.json (e.g. drain times). */
  extra?: Record<string, number | string>;
}

const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${Math.round(x)}`);
const num = (x: number | undefined, digits = 1): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));

export function ratio(row: Row): number | undefined {
  if (row.platformRate !== undefined && row.floorRate !== undefined && row.platformRate > 0) return row.floorRate / row.platformRate;
  if (row.platform && row.floor && row.floor.p50 > 0) return row.platform.p50 / row.floor.p50;
  return undefined;
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'measures', 'n', 'platform p50/p95/p99 ms', 'floor p50/p95/p99 ms', '×floor', 'rate plat/floor /s', 'RSS MiB plat/floor'];
  const lines = rows.map((r) => [
    r.scenario,
    r.measures,
    `${r.platform?.n ?? '-'}/${r.floor?.n ?? '-'}`,
    r.platform ? `${ms(r.platform.p50)} / ${ms(r.platform.p95)} / ${ms(r.platform.p99)}` : '-',
    r.floor ? `${ms(r.floor.p50)} / ${ms(r.floor.p95)} / ${ms(r.floor.p99)}` : '-',
    num(ratio(r)),
    r.platformRate !== undefined || r.floorRate !== undefined ? `${num(r.platformRate)} / ${num(r.floorRate)}` : '-',
    r.platformRssMiB !== undefined || r.floorRssMiB !== undefined ? `${num(r.platformRssMiB, 0)} / ${num(r.floorRssMiB, 0)}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.scenario} / ${r.measures}: ${r.note}`);
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** Runs `fn` over `items`, at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await fn(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const mib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Math.round((bytes / 1024 / 1024) * 10) / 10);
