/**
 * Judges scan findings against an environment's scan policy. Pure: the same findings and policy
 * always give the same summary, so the verdict recorded in history can be recomputed by anyone.
 */
import { ApplicationFailure } from '@temporalio/common';
import { SEVERITIES, type EnvironmentPolicy, type ScanFinding, type ScanSummary, type Severity, type SeverityCounts } from '../shared/domain';
import { ErrorType } from '../shared/errors';
import type { ScanFindings } from './ports/image-scanner';

/** Enough for a person to start fixing; the full list stays with the CI job that produced it. */
const WORST_SHOWN = 5;

const rank = (severity: Severity): number => SEVERITIES.indexOf(severity);

function byWorstFirst(a: ScanFinding, b: ScanFinding): number {
  return rank(a.severity) - rank(b.severity) || compare(a.id, b.id) || compare(a.pkg, b.pkg);
}

/** Code-unit order, not locale order: a summary must not depend on the worker's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function zeroCounts(): SeverityCounts {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
}

function describeFinding(finding: ScanFinding): string {
  const pkg = finding.installedVersion ? `${finding.pkg} ${finding.installedVersion}` : finding.pkg;
  return `${finding.id} (${pkg}, ${finding.severity})`;
}

function violationReason(counts: SeverityCounts, blocked: readonly Severity[], blocking: readonly ScanFinding[]): string {
  const perSeverity = blocked.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  const shown = blocking.slice(0, WORST_SHOWN).map(describeFinding);
  const more = blocking.length > shown.length ? `, and ${blocking.length - shown.length} more` : '';
  const noun = blocking.length === 1 ? 'finding is' : 'findings are';
  return `${perSeverity.join(', ')} ${noun} of a blocked severity (${blocked.join(', ')}): ${shown.join(', ')}${more}`;
}

export function judgeScan(findings: ScanFindings, policy: EnvironmentPolicy['scan']): ScanSummary {
  // Severity order, no duplicates: the summary reads the same however the policy file lists them.
  const blocked = SEVERITIES.filter((s) => policy.blockSeverities.includes(s));
  const counts = zeroCounts();

  // A required scan needs findings shown to be about this image.
  const unavailable = !findings.available ? findings.reason : policy.required ? findings.unverified : undefined;
  if (!findings.available || unavailable !== undefined) {
    return {
      scanner: findings.scanner,
      scanned: false,
      passed: !policy.required,
      counts,
      blockedSeverities: blocked,
      blockingFindings: 0,
      worst: [],
      ...(policy.required
        ? { reason: `the environment requires an image scan, but none is available: ${unavailable}` }
        : { note: `not scanned (allowed here): ${unavailable}` }),
    };
  }

  for (const finding of findings.findings) counts[finding.severity] += 1;
  const sorted = [...findings.findings].sort(byWorstFirst);
  const blocking = sorted.filter((f) => blocked.includes(f.severity));
  return {
    scanner: findings.scanner,
    scanned: true,
    passed: blocking.length === 0,
    counts,
    blockedSeverities: blocked,
    blockingFindings: blocking.length,
    worst: sorted.slice(0, WORST_SHOWN),
    ...(blocking.length > 0 ? { reason: violationReason(counts, blocked, blocking) } : {}),
  };
}

/** The failure that stops a deployment; its details carry the summary for the status view. */
export function scanViolation(summary: ScanSummary, environment: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.ScanPolicyViolation,
    nonRetryable: true,
    message: `the image may not be deployed to ${environment}: ${summary.reason ?? 'the scan did not pass the environment policy'}`,
    details: [summary],
  });
}
