import type { ChangeOutcome, ChangeRecord } from '../../shared/domain';

export interface OpenChangeRequest {
  /** Unique per run; opening twice with the same id returns the first change. */
  correlationId: string;
  shortDescription: string;
  description: string;
  /** `standard` changes are pre-approved; `normal` ones wait for approvers. */
  type: 'normal' | 'standard';
  requestedBy: string;
}

export interface CloseChangeRequest {
  sysId: string;
  outcome: ChangeOutcome;
  notes: string;
}

/** A change-management system such as ServiceNow. */
export interface ChangeManagement {
  open(request: OpenChangeRequest): Promise<ChangeRecord>;
  get(sysId: string): Promise<ChangeRecord>;
  /** Idempotent: closing a closed change with the same outcome is a no-op. */
  close(request: CloseChangeRequest): Promise<ChangeRecord>;
}
