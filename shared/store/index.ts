import { ConfigurationRepository } from './configuration';
import { openDatabase } from './database';

export { ConfigurationRepository, type EntryContent, type EntryLocation, type Scope, type StoredEntry } from './configuration';
export { migrate, openDatabase, StoreError } from './database';

export interface PlatformStore {
  configuration: ConfigurationRepository;
  close(): void;
}

/** Opens (creating and migrating when needed) the platform database at `path`. */
export function openPlatformStore(path: string): PlatformStore {
  const db = openDatabase(path);
  return { configuration: new ConfigurationRepository(db), close: () => db.close() };
}
