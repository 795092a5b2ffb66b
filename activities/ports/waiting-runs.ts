/** The orchestrator's side of the approval sweeper (ADR 16): prompting the runs that wait on changes. */
export interface WaitingRuns {
  /**
   * Prompts every run on this platform's task queue that waits for approval of one of
   * `changeNumbers` to read its change. Returns how many runs were prompted; a run that ended
   * meanwhile is skipped.
   */
  prompt(changeNumbers: string[]): Promise<number>;
}
