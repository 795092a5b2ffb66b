/** The record of which landing zones exist: what deployments are checked against. */
export interface LandingZoneDirectory {
  /** Idempotent for the same run; another run's landing zone for the same project is refused. */
  register(record: { project: string; tenant: string; projectClass: string; environments: string[]; workflowId: string; runId: string; resources: unknown }): void;
  /** No-op when absent or registered by another run. */
  unregister(project: string, runId: string): boolean;
}
