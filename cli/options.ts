/**
 * Parsers for option values, and the checks the CLI makes before it sends anything. A bad value
 * is a usage error (exit 2) naming the option; the API stays the judge of everything else (a
 * wrong name or host answers 400 with the field, also exit 2).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `2s`, `30m`, `24h`, `3d`, or sums like `1h30m`, in milliseconds (`0s` too: `--timeout 0s` reads once). */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new InvalidArgumentError(`"${text}" is not a duration: use e.g. 2s, 30m, 1h30m`);
  }
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * (UNIT_MS[unit ?? ''] ?? 0), 0);
}

export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    if (!/^-?\d+$/.test(text.trim())) throw new InvalidArgumentError(`"${text}" is not a whole number`);
    const value = Number(text);
    if (value < min || value > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return value;
  };
}

/** `dev,staging` → ['dev', 'staging']; repeated options add up. */
export function commaList(text: string, previous: string[] = []): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('give at least one name, comma-separated');
  return [...previous, ...items];
}

/** A repeatable option: each occurrence adds one value. */
export function repeatable(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

// The same rule as the API's deployment schema (shared/schemas/deployment.ts; test/cli checks they agree).
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_WITH_DIGEST = new RegExp(
  `^((?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*)` +
    `(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@(sha256:[a-f0-9]{64})$`,
);

/** The digest of an image reference pinned by digest (`repo[:tag]@sha256:<64 hex>`), else undefined. */
export function imageDigest(reference: string): string | undefined {
  return IMAGE_WITH_DIGEST.exec(reference)?.[3];
}

/** Reads a JSON file named on the command line; a usage error saying which option and why. */
export function readJsonFile(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${option} ${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option} ${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Options that must be given (from flags or a --file body): one usage error naming all that are missing. */
export function requireFields(missing: string[], hint: string): void {
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`, [hint]);
}
