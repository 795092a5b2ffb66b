import { ApplicationFailure, CancellationScope, isCancellation, log } from '@temporalio/workflow';
import type { CloseChangeRequest } from '../../activities/ports/change-management';
import type { RunView, StepRecord } from '../../shared/contracts/run';
import type { ChangeOutcome } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import { describeFailure, type RunTracker } from './run-tracker';
import type { Saga } from './saga';

export interface CompensationContext<View extends RunView> {
  tracker: RunTracker<View>;
  saga: Saga;
  /** Closes the run's change, if it opened one. */
  closeChange(outcome: ChangeOutcome, notes: string): Promise<void>;
}

/**
 * After a failure or a cancellation: undo what was done (reverse order, non-cancellable), close
 * the change with the outcome, set the final status, and rethrow the original error.
 * Runs that already ended as rejected or expired are rethrown untouched.
 */
export async function compensateAndRethrow<View extends RunView>(error: unknown, context: CompensationContext<View>): Promise<never> {
  const { tracker, saga } = context;
  if (tracker.status === 'rejected' || tracker.status === 'expired') throw error;
  const cancelled = isCancellation(error);
  const superseded = isSuperseded(error);
  tracker.recordError(error);
  const hadSideEffects = !saga.isEmpty;
  await CancellationScope.nonCancellable(async () => {
    if (hadSideEffects) {
      tracker.enter('compensate');
      const running = new Map<string, StepRecord>();
      const failures = await saga.compensate({
        onStart: (step) => running.set(step, tracker.begin(`undo:${step}`)),
        onDone: (step, failure) => {
          const record = running.get(step);
          if (record) tracker.end(record, failure ? 'failed' : 'succeeded', failure ? describeFailure(failure).message : undefined);
        },
      });
      tracker.patch((s) => {
        s.compensationErrors = failures.map((f) => ({ step: f.step, message: describeFailure(f.error).message }));
      });
    }
    const reason = describeFailure(error);
    try {
      const why = cancelled ? 'Cancelled' : superseded ? `Superseded: ${reason.message}` : `Failed: ${reason.type}: ${reason.message}`;
      await context.closeChange(hadSideEffects ? 'unsuccessful' : 'cancelled', `${why}.${hadSideEffects ? ' Applied changes were rolled back.' : ' Nothing was applied.'}`);
    } catch (closeError) {
      log.error('could not close the change after a failure', { error: String(closeError) });
      tracker.patch((s) => s.compensationErrors.push({ step: 'closeChange', message: describeFailure(closeError).message }));
    }
  });
  const clean = tracker.view().compensationErrors.length === 0;
  await tracker.conclude(cancelled ? 'cancelled' : superseded && !hadSideEffects ? 'superseded' : hadSideEffects && clean ? 'rolled_back' : 'failed');
  throw error;
}

function isSuperseded(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === ErrorType.DeploymentSuperseded;
}

/**
 * Closes the change a run opened (if it opened one) as one recorded `closeChange` step. Both
 * workflows name that stage `closeChange`, hence the cast to the generic stage type.
 */
export function changeCloser<View extends RunView>(
  tracker: RunTracker<View>,
  close: (request: CloseChangeRequest) => Promise<unknown>,
): (outcome: ChangeOutcome, notes: string) => Promise<void> {
  return async (outcome, notes) => {
    const change = tracker.view().change;
    if (!change) return;
    await tracker.step('closeChange' as View['stage'], () => close({ sysId: change.sysId, outcome, notes }), () => outcome);
    tracker.recordChangeOutcome(outcome);
  };
}
