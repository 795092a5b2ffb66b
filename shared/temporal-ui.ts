/** The one place that builds a link to a run in the Temporal UI (pure: workflows use it too). */
export function temporalUiLink(baseUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const workflow = `${baseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${workflow}/${encodeURIComponent(runId)}/history` : workflow;
}
