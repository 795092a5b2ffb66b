import { ConfigurationRepository } from './configuration';
import { openDatabase } from './database';
import { LandingZoneRepository } from './landing-zones';
import { TokenRepository } from './tokens';

export { ConfigurationRepository, type EntryContent, type EntryLocation, type Scope, type StoredEntry } from './configuration';
export { migrate, openDatabase, StoreError } from './database';
export { TokenRepository, type IssuedToken } from './tokens';
export { LandingZoneRepository, type LandingZoneRecord } from './landing-zones';

export interface PlatformStore {
  configuration: ConfigurationRepository;
  tokens: TokenRepository;
  landingZones: LandingZoneRepository;
  close(): void;
}

/** Opens (creating and migrating when needed) the platform database at `path`. */
export function openPlatformStore(path: string): PlatformStore {
  const db = openDatabase(path);
  return {
    configuration: new ConfigurationRepository(db),
    tokens: new TokenRepository(db),
    landingZones: new LandingZoneRepository(db),
    close: () => db.close(),
  };
}
