/**
 * What a configuration entry may look like. The repository enforces these rules on every write
 * (landing zones write through it without the API in between) and the API reports them as field
 * errors, so both paths refuse the same things.
 */
import { StoreError } from './database';

export type Scope = 'global' | 'tenant' | 'project';

export interface EntryLocation {
  scope: Scope;
  tenant?: string;
  project?: string;
  /** Absent: the entry applies to every environment. */
  environment?: string;
  key: string;
}

export type EntryContent = { value: string; secretRef?: undefined } | { secretRef: string; value?: undefined };

export interface EntryProblem {
  field: 'scope' | 'tenant' | 'project' | 'environment' | 'key' | 'value' | 'secretRef';
  message: string;
}

export const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
export const MAX_VALUE_LENGTH = 4096;
export const MAX_SECRET_REF_LENGTH = 512;

/** `scheme://where#what`; no `user:password@` in the authority, which would carry a credential. */
const SECRET_REF = /^[a-z][a-z0-9+.-]*:\/\/[^\s/@]+(\/\S*)?$/;
const SECRET_SOUNDING_KEY = /password|passwd|secret|token|private[-_.]?key|credential|api[-_.]?key/i;
/** Secret material that hides in innocent-looking keys such as `db.url`. */
const EMBEDDED_SECRETS: { pattern: RegExp; what: string }[] = [
  { pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i, what: 'a URL with a password in it' },
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, what: 'a private key' },
  // ADO.NET / ODBC / JDBC connection strings: `Server=db;User Id=app;Password=...`, `...?password=...`.
  { pattern: /(^|[;?&\s])(password|pwd|passwd)\s*=\s*[^;&\s]+/i, what: 'a connection string with a password' },
  { pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, what: 'an AWS access key id' },
  { pattern: /aws_secret_access_key\s*[=:]/i, what: 'an AWS secret access key' },
  { pattern: /\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/, what: 'a GitHub token' },
];

export class InvalidEntryError extends StoreError {
  override readonly name = 'InvalidEntryError';
  constructor(readonly problems: EntryProblem[]) {
    super(`invalid configuration entry: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
  }
}

const label = (field: 'tenant' | 'project' | 'environment', value: string): EntryProblem[] =>
  DNS_LABEL.test(value) ? [] : [{ field, message: 'must be a lowercase DNS label: a-z, 0-9 and -, starting with a letter' }];

export function keyProblems(key: string): EntryProblem[] {
  return CONFIG_KEY.test(key) ? [] : [{ field: 'key', message: 'must start with a letter and use at most 128 letters, digits, _ . -' }];
}

export function locationProblems(location: EntryLocation): EntryProblem[] {
  const { scope, tenant, project, environment } = location;
  const problems: EntryProblem[] = [];
  if (scope === 'global' && (tenant !== undefined || project !== undefined)) problems.push({ field: 'scope', message: 'a global entry has no tenant or project' });
  if (scope === 'tenant' && (tenant === undefined || project !== undefined)) problems.push({ field: 'scope', message: 'a tenant entry has a tenant and no project' });
  if (scope === 'project' && (tenant === undefined || project === undefined)) problems.push({ field: 'scope', message: 'a project entry has a tenant and a project' });
  if (tenant !== undefined) problems.push(...label('tenant', tenant));
  if (project !== undefined) problems.push(...label('project', project));
  if (environment !== undefined) problems.push(...label('environment', environment));
  return [...problems, ...keyProblems(location.key)];
}

/** Problems with what is stored under `key`; messages never repeat the value. */
export function contentProblems(key: string, content: { value?: string; secretRef?: string }): EntryProblem[] {
  const { value, secretRef } = content;
  if ((value === undefined) === (secretRef === undefined)) return [{ field: 'value', message: 'give exactly one of value or secretRef' }];
  if (secretRef !== undefined) {
    if (secretRef.length > MAX_SECRET_REF_LENGTH || !SECRET_REF.test(secretRef)) {
      return [{ field: 'secretRef', message: 'must be a reference such as vault://kv/payments/db#password or aws-sm://payments/db, without credentials in it' }];
    }
    return [];
  }
  if (value === undefined) return [];
  if (value.length > MAX_VALUE_LENGTH) return [{ field: 'value', message: `must be at most ${MAX_VALUE_LENGTH} characters` }];
  if (SECRET_SOUNDING_KEY.test(key)) {
    return [{ field: 'value', message: `"${key}" names a secret: keep the secret in your secret manager and send its reference as secretRef` }];
  }
  const embedded = EMBEDDED_SECRETS.find(({ pattern }) => pattern.test(value));
  if (embedded) return [{ field: 'value', message: `looks like it contains ${embedded.what}: keep the secret in your secret manager and send its reference as secretRef` }];
  return [];
}

export function entryProblems(location: EntryLocation, content: EntryContent): EntryProblem[] {
  return [...locationProblems(location), ...contentProblems(location.key, content)];
}
