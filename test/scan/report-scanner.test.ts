import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTrivyReportScanner } from '../../activities/adapters/trivy/report-scanner';
import type { ImageRef, ScanReport } from '../../shared/domain';

const OUR_DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const image: ImageRef = {
  reference: `registry.example.com/payments/ledger:1.4.2@${OUR_DIGEST}`,
  repository: 'registry.example.com/payments/ledger',
  tag: '1.4.2',
  digest: OUR_DIGEST,
};

function report(overrides: Partial<ScanReport> = {}): ScanReport {
  return {
    source: 'trivy',
    artifactName: 'registry.example.com/payments/ledger:1.4.2',
    repoDigests: [`registry.example.com/payments/ledger@${OUR_DIGEST}`],
    findings: [{ id: 'CVE-2024-3094', severity: 'CRITICAL', pkg: 'liblzma5' }],
    ...overrides,
  };
}

describe('Trivy report scanner', () => {
  const scanner = createTrivyReportScanner();

  it('when no report is attached, then findings are unavailable with that reason', async () => {
    assert.deepEqual(await scanner.findings({ image }), {
      available: false,
      scanner: 'trivy-report',
      reason: 'no scan report was attached to the request',
    });
  });

  it('when the report names the image digest among its RepoDigests, then its findings are available', async () => {
    const mirrored = report({ repoDigests: [`mirror.example.com/ledger@${OTHER_DIGEST}`, `registry.example.com/payments/ledger@${OUR_DIGEST}`] });
    assert.deepEqual(await scanner.findings({ image, report: mirrored }), {
      available: true,
      scanner: 'trivy-report',
      findings: mirrored.findings,
    });
  });

  it('when the report is about another digest, then it is unavailable and the reason names both digests', async () => {
    const result = await scanner.findings({ image, report: report({ repoDigests: [`registry.example.com/payments/ledger@${OTHER_DIGEST}`] }) });
    assert.equal(result.available, false);
    assert.ok(!result.available);
    assert.match(result.reason, new RegExp(OTHER_DIGEST));
    assert.match(result.reason, new RegExp(OUR_DIGEST));
  });

  it('when a RepoDigests entry has no digest at all, then it does not count as a match', async () => {
    const result = await scanner.findings({ image, report: report({ repoDigests: ['registry.example.com/payments/ledger'] }) });
    assert.equal(result.available, false);
  });

  it('when RepoDigests is empty but ArtifactName pins another digest, then it is unavailable', async () => {
    const result = await scanner.findings({ image, report: report({ repoDigests: [], artifactName: `registry.example.com/payments/ledger@${OTHER_DIGEST}` }) });
    assert.equal(result.available, false);
  });

  it('when the report carries no digest evidence (image scanned before push), then its findings are taken', async () => {
    const result = await scanner.findings({ image, report: report({ repoDigests: [] }) });
    assert.equal(result.available, true);
  });
});
