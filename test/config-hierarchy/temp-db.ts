/** Database files in throw-away directories, removed when the test file ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

export function tempDbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platform-store-'));
  dirs.push(dir);
  return join(dir, 'platform.sqlite');
}
