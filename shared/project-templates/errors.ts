/**
 * Any problem with a project template or the context it is rendered with. The API maps it to a 400
 * on `class`; the landing-zone activity makes it non-retryable (rendering is deterministic).
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** `a.b.0: message` for each issue, so a broken manifest or context names the field. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}
