import type { LandingZoneRegistration, LandingZoneSpec } from '../../shared/contracts/landing-zone';

/** The record of which landing zones exist: what deployments are checked against. */
export interface LandingZoneDirectory {
  /** Idempotent for the same run; another run's landing zone for the same project is refused. */
  register(record: LandingZoneRegistration): void;
  /** No-op when absent or registered by another run. */
  unregister(project: string, runId: string): boolean;
  /** Replaces environments, spec and resources (an update, or its undo); false when absent. */
  revise(project: string, revision: { environments: string[]; spec: LandingZoneSpec; resources: unknown }): boolean;
  /** `decommissioning` refuses new deployments; `active` lets them in again. False when absent. */
  setState(project: string, state: 'active' | 'decommissioning'): boolean;
}
