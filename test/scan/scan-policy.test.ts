import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { ScanFindings } from '../../activities/ports/image-scanner';
import { judgeScan, scanViolation } from '../../activities/scan-policy';
import type { EnvironmentPolicy, ScanFinding, Severity } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';

type ScanPolicy = EnvironmentPolicy['scan'];
const dev: ScanPolicy = { required: false, blockSeverities: ['CRITICAL'] };
const staging: ScanPolicy = { required: true, blockSeverities: ['CRITICAL'] };
const prod: ScanPolicy = { required: true, blockSeverities: ['HIGH', 'CRITICAL'] };

const finding = (id: string, severity: Severity, pkg = 'pkg', installedVersion?: string): ScanFinding => ({
  id,
  severity,
  pkg,
  ...(installedVersion ? { installedVersion } : {}),
});
const found = (...findings: ScanFinding[]): ScanFindings => ({ available: true, scanner: 'trivy-report', findings });
const missing: ScanFindings = { available: false, scanner: 'trivy-report', reason: 'no scan report was attached to the request' };

const mixedFindings = [
  finding('CVE-2024-9', 'LOW'),
  finding('CVE-2024-2', 'CRITICAL', 'curl'),
  finding('CVE-2024-5', 'HIGH', 'zlib', '1.2.13'),
  finding('CVE-2024-1', 'CRITICAL', 'openssl', '3.0.11'),
  finding('CVE-2024-7', 'MEDIUM'),
  finding('CVE-2024-8', 'UNKNOWN'),
  finding('CVE-2024-6', 'MEDIUM'),
];
const mixed = found(...mixedFindings);

describe('judgeScan', () => {
  it('when dev blocks only CRITICAL and the scan has none, then it passes with counts per severity', () => {
    const summary = judgeScan(found(finding('CVE-1', 'HIGH'), finding('CVE-2', 'HIGH'), finding('CVE-3', 'LOW')), dev);
    assert.equal(summary.passed, true);
    assert.deepEqual(summary.counts, { CRITICAL: 0, HIGH: 2, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    assert.equal(summary.blockingFindings, 0);
    assert.deepEqual(summary.blockedSeverities, ['CRITICAL']);
    assert.equal(summary.reason, undefined);
    assert.equal(summary.scanner, 'trivy-report');
  });

  it('when prod blocks HIGH and CRITICAL, then it fails and the reason names counts and the worst findings first', () => {
    const summary = judgeScan(mixed, prod);
    assert.equal(summary.passed, false);
    assert.equal(summary.blockingFindings, 3);
    assert.deepEqual(summary.blockedSeverities, ['CRITICAL', 'HIGH']);
    assert.equal(
      summary.reason,
      '2 CRITICAL, 1 HIGH findings are of a blocked severity (CRITICAL, HIGH): ' +
        'CVE-2024-1 (openssl 3.0.11, CRITICAL), CVE-2024-2 (curl, CRITICAL), CVE-2024-5 (zlib 1.2.13, HIGH)',
    );
  });

  it('when there are more than five findings, then worst holds five, by severity then id', () => {
    const summary = judgeScan(mixed, prod);
    assert.deepEqual(
      summary.worst.map((f) => f.id),
      ['CVE-2024-1', 'CVE-2024-2', 'CVE-2024-5', 'CVE-2024-6', 'CVE-2024-7'],
    );
  });

  it('when staging blocks CRITICAL and one is found, then the reason uses the singular', () => {
    const summary = judgeScan(found(finding('CVE-2024-3094', 'CRITICAL', 'liblzma5'), finding('CVE-2', 'HIGH')), staging);
    assert.equal(summary.passed, false);
    assert.match(summary.reason ?? '', /^1 CRITICAL finding is of a blocked severity \(CRITICAL\): CVE-2024-3094 \(liblzma5, CRITICAL\)$/);
  });

  it('when more findings block than are shown, then the reason says how many more', () => {
    const many = found(...Array.from({ length: 8 }, (_, i) => finding(`CVE-2024-10${i}`, 'CRITICAL')));
    assert.match(judgeScan(many, prod).reason ?? '', /^8 CRITICAL findings .*CVE-2024-104 \(pkg, CRITICAL\), and 3 more$/);
  });

  it('when no scan is available and the environment requires one, then it fails carrying the scanner reason', () => {
    const summary = judgeScan(missing, staging);
    assert.equal(summary.passed, false);
    assert.match(summary.reason ?? '', /requires an image scan.*no scan report was attached to the request/);
    assert.deepEqual(summary.counts, { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    assert.deepEqual(summary.worst, []);
  });

  it('when no scan is available and the environment does not require one, then it passes without a reason', () => {
    const summary = judgeScan(missing, dev);
    assert.equal(summary.passed, true);
    assert.equal(summary.reason, undefined);
    assert.equal(summary.blockingFindings, 0);
    assert.equal(summary.scanned, false);
    assert.match(summary.note ?? '', /not scanned.*no scan report/);
  });

  it('when the scan is clean, then even prod passes', () => {
    assert.equal(judgeScan(found(), prod).passed, true);
  });

  it('when judged twice with findings in another order, then the summaries are equal', () => {
    assert.deepEqual(judgeScan(found(...[...mixedFindings].reverse()), prod), judgeScan(mixed, prod));
  });

  it('when the summary fails, then scanViolation is a non-retryable ScanPolicyViolation carrying the summary', () => {
    const summary = judgeScan(mixed, prod);
    const failure = scanViolation(summary, 'prod');
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, ErrorType.ScanPolicyViolation);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /prod/);
    assert.match(failure.message, /2 CRITICAL, 1 HIGH/);
    assert.match(failure.message, /CVE-2024-1 \(openssl 3.0.11, CRITICAL\)/);
    assert.deepEqual(failure.details, [summary]);
  });
});
