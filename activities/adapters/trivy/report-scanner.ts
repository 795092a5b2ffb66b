/**
 * The embedded image scanner: it scans nothing itself, it hands over the Trivy report CI attached
 * to the request, after checking that the report is about the image being deployed (its
 * repository and digest; shared/scan-evidence.ts).
 */
import { scanEvidence } from '../../../shared/scan-evidence';
import type { ImageScanner, ScanFindings } from '../../ports/image-scanner';

const SCANNER = 'trivy-report';

export function createTrivyReportScanner(): ImageScanner {
  return {
    async findings({ image, report }): Promise<ScanFindings> {
      if (!report) return { available: false, scanner: SCANNER, reason: 'no scan report was attached to the request' };
      const evidence = scanEvidence(image, report);
      if (evidence.kind === 'mismatch') return { available: false, scanner: SCANNER, reason: evidence.reason };
      // A report that names no image is only good enough where the policy does not require a scan.
      return { available: true, scanner: SCANNER, findings: report.findings, ...(evidence.kind === 'none' ? { unverified: evidence.reason } : {}) };
    },
  };
}
