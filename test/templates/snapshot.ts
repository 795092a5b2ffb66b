/**
 * Committed snapshots under __snapshots__/. A missing or different snapshot fails the test; it is
 * written only when someone asks for it with UPDATE_SNAPSHOTS=1, never silently (and never on CI).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SNAPSHOT_DIR = join(__dirname, '__snapshots__');
const UPDATE_COMMAND = 'UPDATE_SNAPSHOTS=1 npx tsx --test test/templates/*.test.ts';

export function expectSnapshot(name: string, actual: string): void {
  const file = join(SNAPSHOT_DIR, `${name}.snap`);
  const shown = relative(process.cwd(), file);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    assert.ok(!process.env.CI, 'UPDATE_SNAPSHOTS=1 on CI: snapshots are reviewed and committed from a workstation');
    mkdirSync(SNAPSHOT_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `no snapshot ${shown}: review the output, then create it with ${UPDATE_COMMAND}`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${shown} differs: if the change is intended, review it and run ${UPDATE_COMMAND}`);
}

/** Many files as one reviewable text: `==> path <==` then the content, like `head` prints them. */
export function filesAsText(header: string, files: Record<string, string>): string {
  const parts = Object.keys(files)
    .sort()
    .map((path) => {
      const content = files[path] ?? '';
      return `==> ${path} <==\n${content}${content === '' || content.endsWith('\n') ? '' : '\n[no newline at end of file]\n'}`;
    });
  return `${header}\n\n${parts.join('\n')}`;
}
