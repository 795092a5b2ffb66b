/** The platform database is private to the platform's user, whatever the process umask. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openPlatformStore } from '../../shared/store';

describe('platform database file permissions', () => {
  it('when the store is opened under a permissive umask, then the database and its WAL files are 0600 and a new folder 0700', () => {
    const root = mkdtempSync(join(tmpdir(), 'db-perms-'));
    const previous = process.umask(0o022);
    try {
      const file = join(root, 'nested', 'platform.sqlite');
      const store = openPlatformStore(file);
      try {
        for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(statSync(path).mode & 0o777, 0o600, path);
        assert.equal(statSync(join(root, 'nested')).mode & 0o777, 0o700);
      } finally {
        store.close();
      }
    } finally {
      process.umask(previous);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
