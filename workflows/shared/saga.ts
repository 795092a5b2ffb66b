import { CancellationScope, log } from '@temporalio/workflow';

export interface CompensationHooks {
  onStart(step: string): void;
  onDone(step: string, error?: unknown): void;
}

/**
 * Undo steps for the side effects a run has (or may have) made. Undos are registered BEFORE the
 * step they undo runs, because a step can take effect and still fail (a crash after the commit,
 * a timeout): every undo must therefore be a no-op when its step never happened.
 */
export class Saga {
  private readonly undos: { step: string; undo: () => Promise<unknown> }[] = [];

  add(step: string, undo: () => Promise<unknown>): void {
    this.undos.push({ step, undo });
  }

  /**
   * Drops every registered undo: the run has passed a step that cannot be undone (a deletion), so
   * restoring the earlier steps would leave a half-state; from here on it only goes forward.
   */
  pointOfNoReturn(): void {
    this.undos.length = 0;
  }

  get isEmpty(): boolean {
    return this.undos.length === 0;
  }

  /**
   * Runs the undos in reverse order inside a non-cancellable scope, so cancelling the run cannot
   * interrupt its own cleanup. An undo that fails (after its own retries) does not stop the others;
   * the failures are returned for the status and a human.
   */
  async compensate(hooks: CompensationHooks): Promise<{ step: string; error: unknown }[]> {
    const failures: { step: string; error: unknown }[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const { step, undo } of [...this.undos].reverse()) {
        hooks.onStart(step);
        try {
          await undo();
          hooks.onDone(step);
        } catch (error) {
          log.error('compensation step failed', { step, error: String(error) });
          failures.push({ step, error });
          hooks.onDone(step, error);
        }
      }
    });
    this.undos.length = 0;
    return failures;
  }
}
