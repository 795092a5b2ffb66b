/**
 * Trivy's JSON report (`trivy image --format json`, SchemaVersion 2) as CI attaches it to a
 * deployment request, and its reduction to the platform's `ScanReport`.
 *
 * Only the fields the policy reads are described; every object is loose because Trivy adds
 * fields between releases (CVSS, DataSource, Layer, …) and a newer Trivy must not break CI.
 */
import { z } from 'zod';
import { SEVERITIES, type ScanFinding, type ScanReport, type Severity } from '../domain';

/** More findings than this in one report is refused: a workflow payload must stay small. */
export const MAX_SCAN_FINDINGS = 20_000;

const text = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `is required (${what})` : `must be a string (${what})`) });
const nonEmptyText = (what: string) => text(what).min(1, `must not be empty (${what})`);

const trivyVulnerabilitySchema = z.looseObject({
  VulnerabilityID: nonEmptyText('the CVE or advisory id, e.g. CVE-2024-3094'),
  PkgName: nonEmptyText('the affected package'),
  InstalledVersion: text('the installed package version').optional(),
  FixedVersion: text('the first fixed version').optional(),
  // Any string: a severity Trivy adds later becomes UNKNOWN instead of refusing the report.
  Severity: text('one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN'),
  Title: text('a one-line description').optional(),
});

const trivyResultSchema = z.looseObject({
  Target: text('what was scanned, e.g. "alpine 3.19" or a lock file path'),
  Class: text('e.g. os-pkgs or lang-pkgs').optional(),
  Type: text('e.g. debian or npm').optional(),
  // Trivy writes `null` or leaves the field out when a target has no vulnerabilities.
  Vulnerabilities: z
    .array(trivyVulnerabilitySchema, { error: 'must be an array of vulnerabilities' })
    .max(MAX_SCAN_FINDINGS, `must hold at most ${MAX_SCAN_FINDINGS} vulnerabilities`)
    .nullish(),
});

export const trivyReportSchema = z.looseObject({
  SchemaVersion: z.literal(2, { error: 'must be 2: attach the output of `trivy image --format json` (Trivy ≥ 0.20)' }),
  ArtifactName: text('the scanned image reference').optional(),
  ArtifactType: text('e.g. container_image').optional(),
  Metadata: z
    .looseObject({
      RepoDigests: z.array(text('a repo@sha256:… digest reference'), { error: 'must be an array of repo@sha256:… strings' }).nullish(),
    })
    .optional(),
  Results: z.array(trivyResultSchema, { error: 'must be an array of scan results' }).nullish(),
});

export type TrivyReport = z.infer<typeof trivyReportSchema>;

const KNOWN_SEVERITIES: ReadonlySet<string> = new Set(SEVERITIES);

export function normaliseSeverity(value: string): Severity {
  const upper = value.trim().toUpperCase();
  return KNOWN_SEVERITIES.has(upper) ? (upper as Severity) : 'UNKNOWN';
}

/**
 * Reduces a parsed report to the findings the policy judges. The same vulnerability of the same
 * package version reported by several targets (e.g. one jar copied twice) counts once, so the
 * counts people read match the fixes they have to make.
 */
export function reduceTrivyReport(report: TrivyReport): ScanReport {
  const findings: ScanFinding[] = [];
  const seen = new Set<string>();
  for (const result of report.Results ?? []) {
    for (const vulnerability of result.Vulnerabilities ?? []) {
      const key = JSON.stringify([vulnerability.VulnerabilityID, vulnerability.PkgName, vulnerability.InstalledVersion ?? '']);
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({
        id: vulnerability.VulnerabilityID,
        severity: normaliseSeverity(vulnerability.Severity),
        pkg: vulnerability.PkgName,
        ...(vulnerability.InstalledVersion ? { installedVersion: vulnerability.InstalledVersion } : {}),
        ...(vulnerability.FixedVersion ? { fixedVersion: vulnerability.FixedVersion } : {}),
        ...(vulnerability.Title ? { title: vulnerability.Title } : {}),
      });
    }
  }
  return {
    source: 'trivy',
    ...(report.ArtifactName ? { artifactName: report.ArtifactName } : {}),
    repoDigests: report.Metadata?.RepoDigests ?? [],
    findings,
  };
}
