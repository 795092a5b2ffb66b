/** Whether a CI scan report is about the image being deployed (repository and digest). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeScan } from '../../activities/scan-policy';
import type { ImageRef } from '../../shared/domain';
import { scanEvidence } from '../../shared/scan-evidence';

const digest = `sha256:${'ab'.repeat(32)}`;
const image: ImageRef = { reference: `registry.example.com/payments/ledger:1.2@${digest}`, repository: 'registry.example.com/payments/ledger', tag: '1.2', digest };

describe('scan evidence', () => {
  it('when RepoDigests names the repository and digest, then it matches; a tag in ArtifactName does not matter', () => {
    assert.deepEqual(scanEvidence(image, { repoDigests: [`registry.example.com/payments/ledger@${digest}`] }), { kind: 'matches' });
    assert.deepEqual(scanEvidence(image, { repoDigests: [], artifactName: `registry.example.com/payments/ledger:1.2@${digest}` }), { kind: 'matches' });
  });

  it('when the report names no digest, then there is no evidence', () => {
    assert.equal(scanEvidence(image, { repoDigests: [], artifactName: 'registry.example.com/payments/ledger:1.2' }).kind, 'none');
    assert.equal(scanEvidence(image, { repoDigests: [] }).kind, 'none');
  });

  it('when the digest is another image\'s, or the same digest in another repository, then it is a mismatch naming which', () => {
    const other = scanEvidence(image, { repoDigests: [`registry.example.com/payments/ledger@sha256:${'cd'.repeat(32)}`] });
    assert.equal(other.kind, 'mismatch');
    const moved = scanEvidence(image, { repoDigests: [`registry.example.com/other/ledger@${digest}`] });
    assert.match(moved.kind === 'mismatch' ? moved.reason : '', /digest matches but the repository is not registry\.example\.com\/payments\/ledger/);
  });

  it('when findings come without evidence, then a required scan refuses them and an optional one takes them as a note', () => {
    const findings = { available: true as const, scanner: 'trivy-report', findings: [], unverified: 'the scan report names no image digest' };
    const required = judgeScan(findings, { required: true, blockSeverities: ['CRITICAL'] });
    assert.equal(required.passed, false);
    assert.match(required.reason ?? '', /requires an image scan, but none is available: the scan report names no image digest/);
    assert.equal(judgeScan(findings, { required: false, blockSeverities: ['CRITICAL'] }).passed, true);
  });
});
