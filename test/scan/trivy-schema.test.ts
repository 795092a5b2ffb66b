import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_SCAN_FINDINGS, normaliseSeverity, reduceTrivyReport, trivyReportSchema } from '../../shared/schemas/trivy';

const FIXTURE_DIGEST = 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

function fixture(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/trivy-report.json'), 'utf8')) as Record<string, unknown>;
}

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = trivyReportSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the report to be refused');
  return result.error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];
}

describe('Trivy report schema', () => {
  it('when given a real `trivy image --format json` report, then it parses and keeps unknown fields', () => {
    const parsed = trivyReportSchema.parse(fixture());
    assert.equal(parsed.ArtifactName, 'registry.example.com/payments/ledger:1.4.2');
    assert.equal(parsed.Results?.length, 4);
    assert.equal((parsed as Record<string, unknown>).CreatedAt, '2025-06-02T09:14:07.512344801Z');
  });

  it('when reduced, then every finding of every target is kept with its severity, package and versions', () => {
    const report = reduceTrivyReport(trivyReportSchema.parse(fixture()));
    assert.equal(report.source, 'trivy');
    assert.equal(report.artifactName, 'registry.example.com/payments/ledger:1.4.2');
    assert.deepEqual(report.repoDigests, [`registry.example.com/payments/ledger@${FIXTURE_DIGEST}`]);
    assert.deepEqual(
      report.findings.map((f) => `${f.id}:${f.severity}`),
      ['CVE-2024-3094:CRITICAL', 'CVE-2023-5363:HIGH', 'CVE-2024-0727:MEDIUM', 'CVE-2023-4039:LOW', 'TEMP-0841856-B18BAF:UNKNOWN', 'CVE-2024-4068:HIGH'],
    );
    assert.deepEqual(report.findings[0], {
      id: 'CVE-2024-3094',
      severity: 'CRITICAL',
      pkg: 'liblzma5',
      installedVersion: '5.6.0-0.2',
      fixedVersion: '5.6.1+really5.4.5-1',
      title: 'xz: malicious code in distributed source',
    });
    assert.deepEqual(report.findings[3], {
      id: 'CVE-2023-4039',
      severity: 'LOW',
      pkg: 'libgcc-s1',
      installedVersion: '12.2.0-14',
      title: 'gcc: -fstack-protector fails to guard dynamic stack allocations on ARM64',
    });
  });

  it('when a report has no Results, null Vulnerabilities or no Metadata, then it reduces to no findings and no digests', () => {
    assert.deepEqual(reduceTrivyReport(trivyReportSchema.parse({ SchemaVersion: 2, ArtifactName: 'alpine:3.20' })), {
      source: 'trivy',
      artifactName: 'alpine:3.20',
      repoDigests: [],
      findings: [],
    });
    const nulls = trivyReportSchema.parse({ SchemaVersion: 2, Metadata: { RepoDigests: null }, Results: null });
    assert.deepEqual(reduceTrivyReport(nulls).repoDigests, []);
  });

  it('when a severity is lowercase or unknown to the platform, then it is normalised and never dropped', () => {
    assert.equal(normaliseSeverity('high'), 'HIGH');
    assert.equal(normaliseSeverity(' Critical '), 'CRITICAL');
    assert.equal(normaliseSeverity('NEGLIGIBLE'), 'UNKNOWN');
    const vulnerability = { VulnerabilityID: 'CVE-1', PkgName: 'p', Severity: 'SEVERE' };
    const report = reduceTrivyReport(trivyReportSchema.parse({ SchemaVersion: 2, Results: [{ Target: 't', Vulnerabilities: [vulnerability] }] }));
    assert.equal(report.findings[0]?.severity, 'UNKNOWN');
  });

  it('when two targets report the same vulnerability of the same package version, then it counts once', () => {
    const vulnerability = { VulnerabilityID: 'CVE-2024-4068', PkgName: 'braces', InstalledVersion: '3.0.2', Severity: 'HIGH' };
    const report = reduceTrivyReport(
      trivyReportSchema.parse({
        SchemaVersion: 2,
        Results: [
          { Target: 'a/package-lock.json', Vulnerabilities: [vulnerability] },
          { Target: 'b/package-lock.json', Vulnerabilities: [vulnerability, { ...vulnerability, InstalledVersion: '3.0.1' }] },
        ],
      }),
    );
    assert.deepEqual(report.findings.map((f) => f.installedVersion), ['3.0.2', '3.0.1']);
  });

  it('when a vulnerability lacks its id, then the error names the field by its full path', () => {
    const report = fixture();
    const results = report.Results as { Vulnerabilities: Record<string, unknown>[] }[];
    delete results[0]!.Vulnerabilities[1]!.VulnerabilityID;
    const issues = issuesOf(report);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, 'Results.0.Vulnerabilities.1.VulnerabilityID');
    assert.match(issues[0]?.message ?? '', /CVE or advisory id/);
  });

  it('when Results or Vulnerabilities has the wrong shape, then each error names its path', () => {
    assert.deepEqual(
      issuesOf({ SchemaVersion: 2, Results: { Target: 'x' } }).map((i) => i.path),
      ['Results'],
    );
    const issues = issuesOf({ SchemaVersion: 2, Results: [{ Target: 'x', Vulnerabilities: 'none' }], Metadata: { RepoDigests: 'r@sha256:1' } });
    assert.deepEqual(issues.map((i) => i.path).sort(), ['Metadata.RepoDigests', 'Results.0.Vulnerabilities']);
    assert.match(issues.find((i) => i.path === 'Results.0.Vulnerabilities')?.message ?? '', /array of vulnerabilities/);
  });

  it('when the report is not SchemaVersion 2, then it is refused saying which output to attach', () => {
    const issues = issuesOf({ ...fixture(), SchemaVersion: 1 });
    assert.equal(issues[0]?.path, 'SchemaVersion');
    assert.match(issues[0]?.message ?? '', /trivy image --format json/);
  });

  it('when one target lists more than MAX_SCAN_FINDINGS vulnerabilities, then the report is refused', () => {
    assert.equal(MAX_SCAN_FINDINGS, 20_000);
    const vulnerability = { VulnerabilityID: 'CVE-1', PkgName: 'p', Severity: 'LOW' };
    const issues = issuesOf({ SchemaVersion: 2, Results: [{ Target: 't', Vulnerabilities: Array(MAX_SCAN_FINDINGS + 1).fill(vulnerability) }] });
    assert.deepEqual(issues.map((i) => i.path), ['Results.0.Vulnerabilities']);
  });
});
