import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  isCancellation,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunStatus, RunView, StepRecord } from '../../shared/contracts/run';
import type { ChangeOutcome, ChangeRecord } from '../../shared/domain';
import { ChangeNumber, DeployStage, DeployStatus } from '../../shared/search-attributes';

/** The failure type and message a person should see, unwrapped from Temporal's envelopes. */
export function describeFailure(error: unknown): { type: string; message: string } {
  if (isCancellation(error)) return { type: 'Cancelled', message: 'the run was cancelled' };
  let cause: unknown = error;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof CancelledFailure) return { type: 'Cancelled', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

/** One of the platform's search attributes (all keywords) with its new value. */
interface KeywordUpdate {
  key: typeof DeployStage;
  value: string;
}

/**
 * Keeps a run's status (what its `status` query returns) and mirrors it where operators look:
 * the stage/status search attributes and the run's current details in the Temporal UI.
 */
export class RunTracker<View extends RunView> {
  private beforeFinal: (() => Promise<void>) | undefined;
  /** Coalesced runs only: attributes that go out with the next upsert (see `recordChange`). */
  private readonly deferred: KeywordUpdate[] = [];

  constructor(
    private readonly state: View,
    /** Markdown lines for the run's current details, specific to the kind of run. */
    private readonly headline: (view: View) => string[],
    /**
     * Record the final stage and status in one upsert (one history event and one visibility write
     * instead of two). Only for runs started with this shape: a replayed run issues what it recorded.
     */
    private readonly options: {
      finalStatusInOneUpsert?: boolean;
      /**
       * Each upsert (a history event and a visibility write, about 7 ms of the server's CPU) only
       * when a value changes, a new stage and status in one, the change number with the next one.
       * Implies `finalStatusInOneUpsert`. Only for runs started with this shape, as above.
       */
      coalesceUpserts?: boolean;
    } = {},
  ) {}

  view(): View {
    return this.state;
  }

  get status(): RunStatus {
    return this.state.status;
  }

  /** Runs one stage, recording its start, end and outcome. */
  async step<T>(stage: View['stage'], run: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    this.enter(stage);
    const record = this.begin(stage);
    try {
      const result = await run();
      this.end(record, 'succeeded', detail?.(result));
      return result;
    } catch (error) {
      if (isCancellation(error)) this.end(record, 'cancelled', 'interrupted: the run was cancelled');
      else this.end(record, 'failed', describeFailure(error).message);
      throw error;
    }
  }

  skip(stage: View['stage'], reason: string): void {
    const now = new Date().toISOString();
    this.state.steps.push({ name: stage, status: 'skipped', startedAt: now, endedAt: now, detail: reason });
  }

  begin(name: string): StepRecord {
    const record: StepRecord = { name, status: 'running', startedAt: new Date().toISOString() };
    this.state.steps.push(record);
    return record;
  }

  end(record: StepRecord, status: StepRecord['status'], detail?: string): void {
    record.status = status;
    record.endedAt = new Date().toISOString();
    if (detail) record.detail = detail;
  }

  /** Enters a stage; with `status`, the run's status changes with it (one upsert where coalesced). */
  enter(stage: View['stage'], status?: RunStatus): void {
    const updates: KeywordUpdate[] = [{ key: DeployStage, value: stage }];
    if (status !== undefined && this.options.coalesceUpserts) {
      this.state.status = status;
      updates.unshift({ key: DeployStatus, value: status });
    } else if (status !== undefined) {
      this.setStatus(status); // runs of earlier releases recorded the status in an upsert of its own
    }
    this.state.stage = stage;
    this.mirror(updates);
    this.publish();
  }

  setStatus(status: RunStatus): void {
    this.state.status = status;
    this.mirror([{ key: DeployStatus, value: status }]);
    this.publish();
  }

  patch(update: (state: View) => void): void {
    update(this.state);
    this.publish();
  }

  recordChange(change: ChangeRecord): void {
    this.state.change = { number: change.number, sysId: change.sysId, url: change.url };
    if (change.window) this.state.approval.window = change.window;
    const number = { key: ChangeNumber, value: change.number };
    // Coalesced: it goes out with the run's next stage or status. A run that waits for approval
    // enters that stage in this same workflow task, so the sweeper and the webhook, which look
    // for the status and the number together, find both at once.
    if (this.options.coalesceUpserts) this.deferred.push(number);
    else upsertSearchAttributes([number]);
    this.publish();
  }

  recordChangeOutcome(outcome: ChangeOutcome): void {
    if (this.state.change) this.state.change.outcome = outcome;
  }

  recordError(error: unknown): void {
    this.state.error = describeFailure(error);
  }

  /**
   * Work that must be done before the final status is visible: a reader who sees a final status
   * may act on it at once (start the same request again, decommission), so the run must by then
   * have nothing left to do but close.
   */
  beforeFinalStatus(work: () => Promise<void>): void {
    this.beforeFinal = work;
  }

  /** Does the `beforeFinalStatus` work, then records the final status. */
  async conclude(status: RunStatus): Promise<void> {
    if (this.beforeFinal) await this.beforeFinal();
    this.finish(status);
  }

  finish(status: RunStatus): void {
    this.state.endedAt = new Date().toISOString();
    this.state.stage = 'done';
    if (this.options.coalesceUpserts || this.options.finalStatusInOneUpsert) {
      this.state.status = status;
      this.mirror([
        { key: DeployStage, value: 'done' },
        { key: DeployStatus, value: status },
      ]);
      this.publish();
      return;
    }
    upsertSearchAttributes([{ key: DeployStage, value: 'done' }]);
    this.setStatus(status);
  }

  /**
   * Upserts search attributes. Coalesced: with what was deferred, and only the values that
   * differ from what the run's attributes hold (the start already set the first stage and status).
   */
  private mirror(updates: KeywordUpdate[]): void {
    if (!this.options.coalesceUpserts) {
      upsertSearchAttributes(updates);
      return;
    }
    const current = workflowInfo().typedSearchAttributes;
    const latest = new Map<string, KeywordUpdate>();
    for (const update of [...this.deferred.splice(0), ...updates]) latest.set(update.key.name, update);
    const changed = [...latest.values()].filter((update) => current.get(update.key) !== update.value);
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  /** The run's current details in the Temporal UI (markdown). */
  private publish(): void {
    const s = this.state;
    const lines = [`**${s.status}** at stage \`${s.stage}\``, ...this.headline(s)];
    if (s.change) lines.push(`Change ${s.change.url ? `[${s.change.number}](${s.change.url})` : s.change.number}${s.change.outcome ? ` (${s.change.outcome})` : ''}`);
    if (s.approval.required) {
      lines.push(
        s.approval.decision
          ? `Approval: ${s.approval.decision}${s.approval.approver ? ` by ${s.approval.approver}` : ''}`
          : `Approval: pending${s.approval.deadline ? ` until ${s.approval.deadline}` : ''}`,
      );
    }
    if (s.error) lines.push(`Error: ${s.error.type}: ${s.error.message}`);
    setCurrentDetails(lines.join('\n\n'));
  }
}
