/**
 * The embedded image scanner: it scans nothing itself, it hands over the Trivy report CI attached
 * to the request, after checking that the report is about the image being deployed.
 */
import type { ImageRef, ScanReport } from '../../../shared/domain';
import type { ImageScanner, ScanFindings } from '../../ports/image-scanner';

const SCANNER = 'trivy-report';

function describeEvidence(references: readonly string[]): string {
  const shown = references.slice(0, 3).map((r) => r.slice(r.lastIndexOf('@') + 1) || r);
  return shown.join(', ') + (references.length > 3 ? ` and ${references.length - 3} more` : '');
}

/**
 * Why the report cannot be about `image`, or undefined when it can. RepoDigests is the evidence;
 * an image scanned before it was pushed has none, so then a digest in ArtifactName is, and a
 * report with neither is taken at its word.
 */
function mismatch(image: ImageRef, report: ScanReport): string | undefined {
  const ours = `@${image.digest}`;
  const evidence =
    report.repoDigests.length > 0 ? report.repoDigests : report.artifactName?.includes('@') ? [report.artifactName] : [];
  if (evidence.length === 0 || evidence.some((reference) => reference.endsWith(ours))) return undefined;
  return `the attached scan report is for ${describeEvidence(evidence)}, not for the image being deployed (${image.digest})`;
}

export function createTrivyReportScanner(): ImageScanner {
  return {
    async findings({ image, report }): Promise<ScanFindings> {
      if (!report) return { available: false, scanner: SCANNER, reason: 'no scan report was attached to the request' };
      const reason = mismatch(image, report);
      if (reason) return { available: false, scanner: SCANNER, reason };
      return { available: true, scanner: SCANNER, findings: report.findings };
    },
  };
}
