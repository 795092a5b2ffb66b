/**
 * Commit messages are the audit trail and the idempotency record at once: the trailers are how a
 * retried apply or rollback finds the commit its first attempt made.
 */
import type { ApplyRequest } from '../../ports/cluster-target';
import { configurationInvalid } from './failures';

export const Trailer = {
  idempotencyKey: 'Platform-Idempotency-Key',
  revertsKey: 'Platform-Reverts-Key',
  deployment: 'Platform-Deployment',
  run: 'Platform-Run',
  change: 'Change',
} as const;

/**
 * The key is compared exactly with what git parses back from the trailer, and git trims trailer
 * values and ends them at a newline, so a key that would not survive that is refused up front.
 */
export function checkIdempotencyKey(key: string): string {
  if (key === '' || key !== key.trim() || [...key].some((c) => c < ' ' || c === '\x7f')) {
    throw configurationInvalid(`idempotency key ${JSON.stringify(key)} must be non-empty, one line, without surrounding spaces`);
  }
  return key;
}

export interface ApplyMessageInput {
  request: ApplyRequest;
  dir: string;
  extraPaths: readonly string[];
}

export function applyMessage({ request, dir, extraPaths }: ApplyMessageInput): string {
  const { audit, manifests } = request;
  const body = [
    `Sets ${dir}/ to ${manifests.length} manifest${manifests.length === 1 ? '' : 's'}:`,
    ...manifests.map((m) => `  ${m.apiVersion} ${m.kind} ${m.namespace}/${m.name}`),
  ];
  if (extraPaths.length > 0) body.push('', `Stores ${extraPaths.length} file${extraPaths.length === 1 ? '' : 's'} beside them under ${commonDir(extraPaths)}.`);
  return compose(oneLine(audit.title) || `Apply ${dir}`, body, [
    [Trailer.idempotencyKey, request.idempotencyKey],
    ...auditTrailers(audit),
  ]);
}

export function revertMessage(input: { commit: string; subject: string; key: string; audit: ApplyRequest['audit'] }): string {
  const body = [`This reverts commit ${input.commit}.`];
  const why = oneLine(input.audit.title);
  if (why) body.push('', `Rollback for: ${why}`);
  return compose(`Revert "${oneLine(input.subject)}"`, body, [[Trailer.revertsKey, input.key], ...auditTrailers(input.audit)]);
}

export function initialMessage(branch: string): string {
  return compose('Initialise GitOps repository', [`Created by the deployment platform on branch ${branch}; README.md explains the layout.`], []);
}

function auditTrailers(audit: ApplyRequest['audit']): Array<[string, string]> {
  const trailers: Array<[string, string]> = [
    [Trailer.deployment, audit.deploymentId],
    [Trailer.run, audit.runId],
  ];
  if (audit.changeNumber) trailers.push([Trailer.change, audit.changeNumber]);
  return trailers;
}

/** Subject, blank line, body, blank line, trailers: the shape `git interpret-trailers` expects. */
function compose(subject: string, body: readonly string[], trailers: ReadonlyArray<[string, string]>): string {
  const parts = [subject, '', ...body];
  if (trailers.length > 0) parts.push('', ...trailers.map(([key, value]) => `${key}: ${oneLine(value)}`));
  return `${parts.join('\n')}\n`;
}

/** Audit values come from requests; a newline in one must not forge a trailer or split the subject. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** The deepest folder holding all the paths, for a one-line summary (e.g. the chart's folder). */
function commonDir(paths: readonly string[]): string {
  const dirs = paths.map((p) => p.split('/').slice(0, -1));
  const first = dirs[0] ?? [];
  let depth = 0;
  while (depth < first.length && dirs.every((d) => d[depth] === first[depth])) depth++;
  return depth === 0 ? 'the repository root' : `${first.slice(0, depth).join('/')}/`;
}
