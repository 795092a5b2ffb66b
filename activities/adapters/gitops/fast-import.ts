/**
 * The `git fast-import` stream for a chain of commits on one branch: one process writes every
 * commit of a group, where `git add` + `git commit` need several processes per commit and a
 * working tree to stage in. Only commits the group commit has already checked are written here.
 */
import type { GitIdentity } from './git';

export interface ImportedCommit {
  /** Directories replaced by this commit's files (`D <dir>` first, then the files). */
  replaces: readonly string[];
  /** Full path → content, each stored as a regular file (mode 100644). */
  files: ReadonlyMap<string, string>;
  message: string;
}

/**
 * Commits `commits` one after another on `branch`, the first on top of `parent`; the stream ends
 * with `done`, so fast-import changes nothing when it is cut off, and with one `get-mark` per
 * commit, so the import prints the commits' names in order, one per line.
 */
export function fastImportStream(input: { branch: string; parent: string; identity: GitIdentity; commits: readonly ImportedCommit[] }): string {
  const ident = `${input.identity.name} <${input.identity.email}> now`;
  const parts = ['feature done\n'];
  input.commits.forEach((commit, i) => {
    parts.push(`commit refs/heads/${input.branch}\nmark :${i + 1}\nauthor ${ident}\ncommitter ${ident}\n`, data(cleanMessage(commit.message)));
    if (i === 0) parts.push(`from ${input.parent}\n`);
    for (const dir of commit.replaces) parts.push(`D ${quotePath(dir)}\n`);
    for (const [path, content] of commit.files) parts.push(`M 100644 inline ${quotePath(path)}\n`, data(content));
    parts.push('\n');
  });
  input.commits.forEach((_, i) => parts.push(`get-mark :${i + 1}\n`));
  parts.push('done\n');
  return parts.join('');
}

function data(content: string): string {
  return `data ${Buffer.byteLength(content, 'utf8')}\n${content}\n`;
}

/**
 * What `git commit --cleanup=whitespace` stores: trailing spaces and leading, trailing and repeated
 * blank lines removed, one final newline; fast-import stores a message as given.
 */
export function cleanMessage(message: string): string {
  const lines = message.split('\n').map((line) => line.replace(/\s+$/, ''));
  const kept: string[] = [];
  for (const line of lines) if (line !== '' || (kept.length > 0 && kept.at(-1) !== '')) kept.push(line);
  while (kept.at(-1) === '') kept.pop();
  return kept.length > 0 ? `${kept.join('\n')}\n` : '';
}

/** A path as fast-import reads it: as is, or C-quoted when it holds a quote, backslash or control character. */
export function quotePath(path: string): string {
  if (![...path].some((c) => c === '"' || c === '\\' || c < ' ' || c === '\x7f')) return path;
  let quoted = '"';
  for (const byte of Buffer.from(path, 'utf8')) {
    if (byte === 0x22) quoted += '\\"';
    else if (byte === 0x5c) quoted += '\\\\';
    else if (byte === 0x0a) quoted += '\\n';
    else if (byte === 0x09) quoted += '\\t';
    else if (byte < 0x20 || byte === 0x7f) quoted += `\\${byte.toString(8).padStart(3, '0')}`;
    else quoted += byte < 0x80 ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${quoted}"`;
}
