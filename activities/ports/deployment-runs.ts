/** The platform's own deployment runs, as the orchestrator sees them. */
export interface DeploymentRuns {
  /** Deployment runs of the project that have not ended (waiting for approval included). */
  inFlight(project: string): Promise<{ workflowId: string; runId: string }[]>;
}
