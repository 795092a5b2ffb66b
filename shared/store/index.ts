import { AuditRepository } from './audit';
import { ConfigurationRepository } from './configuration';
import { IdempotencyRepository } from './idempotency';
import { openDatabase } from './database';
import { LandingZoneRepository } from './landing-zones';
import { TokenRepository } from './tokens';

export {
  AUDIT_ACTIONS,
  AUDIT_CHANNELS,
  AUDIT_OUTCOMES,
  AuditRepository,
  type AuditAction,
  type AuditChannel,
  type AuditEntry,
  type AuditEntryInput,
  type AuditOutcome,
  type AuditQuery,
  type AuditTarget,
} from './audit';
export { ConfigurationRepository, type StoredEntry } from './configuration';
export { migrate, openDatabase, StoreError, writeTransaction } from './database';
export {
  CONFIG_KEY,
  contentProblems,
  DNS_LABEL,
  entryProblems,
  InvalidEntryError,
  keyProblems,
  locationProblems,
  type EntryContent,
  type EntryLocation,
  type EntryProblem,
  type Scope,
} from './entry-rules';
export { TokenRepository, type IssuedToken } from './tokens';
export { IdempotencyRepository, type KeyClaim } from './idempotency';
export { LandingZoneConflictError, LandingZoneRepository, type LandingZoneRecord, type LandingZoneRevision, type LandingZoneState } from './landing-zones';

/** One connection, one repository per table group; a new table group adds a migration and a field here. */
export interface PlatformStore {
  configuration: ConfigurationRepository;
  tokens: TokenRepository;
  landingZones: LandingZoneRepository;
  idempotency: IdempotencyRepository;
  /** Append-only: who did what, refusals included. */
  audit: AuditRepository;
  close(): void;
}

/** Opens (creating and migrating when needed) the platform database at `path`. */
export function openPlatformStore(path: string): PlatformStore {
  const db = openDatabase(path);
  return {
    configuration: new ConfigurationRepository(db),
    tokens: new TokenRepository(db),
    landingZones: new LandingZoneRepository(db),
    idempotency: new IdempotencyRepository(db),
    audit: new AuditRepository(db),
    close: () => db.close(),
  };
}
