import type { ApprovalRecord, ChangeOutcome, ChangeRecord, ChangeWindow } from '../../shared/domain';

export interface OpenChangeRequest {
  /** Unique per run; opening twice with the same id returns the first change. */
  correlationId: string;
  shortDescription: string;
  description: string;
  /** `standard` changes are pre-approved; `normal` ones wait for approvers. */
  type: 'normal' | 'standard';
  requestedBy: string;
  /** The planned window to propose (ISO times); ServiceNow's dates win once people edit them. */
  window?: Required<ChangeWindow>;
}

export interface CloseChangeRequest {
  sysId: string;
  outcome: ChangeOutcome;
  notes: string;
}

/** A change the platform opened on which the system now records a decision (or which was closed). */
export interface DecidedChange {
  sysId: string;
  number: string;
  /** When the system last updated it (ISO). */
  updatedAt?: string;
}

/** One page of decided changes, oldest update first; `next` continues the same query. */
export interface DecidedChangePage {
  changes: DecidedChange[];
  next?: number;
}

/** A change-management system such as ServiceNow. */
export interface ChangeManagement {
  /**
   * Exactly one change per correlation id, however often it is called and whatever happened to an
   * earlier call (timed out, lost, still in transit while the caller died).
   */
  open(request: OpenChangeRequest): Promise<ChangeRecord>;
  get(sysId: string): Promise<ChangeRecord>;
  /** Every approver's record on the change (ServiceNow's `sysapproval_approver`). */
  approvals(sysId: string): Promise<ApprovalRecord[]>;
  /**
   * Changes this platform opened that were decided (approved, rejected) or closed/cancelled and
   * updated at or after `since`, a page at a time: one query for every waiting run (ADR 16).
   */
  decidedSince(since: Date, page?: { offset: number; limit: number }): Promise<DecidedChangePage>;
  /** Idempotent: closing a closed change with the same outcome is a no-op. */
  close(request: CloseChangeRequest): Promise<ChangeRecord>;
}
