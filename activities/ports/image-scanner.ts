import type { ImageRef, ScanFinding, ScanReport } from '../../shared/domain';

export interface ScanRequest {
  image: ImageRef;
  /** A report produced in CI and attached to the deployment request, when there is one. */
  report?: ScanReport;
}

/**
 * What a scanner found. `available: false` means the scanner has nothing to judge (for example
 * no report was attached); the policy decides whether that blocks the deployment.
 */
export type ScanFindings =
  /** `unverified`: why nothing shows the findings are about this image (a required scan refuses them). */
  | { available: true; scanner: string; findings: ScanFinding[]; unverified?: string }
  | { available: false; scanner: string; reason: string };

/** Finds the known vulnerabilities of an image. Judging them is the policy's job, not the port's. */
export interface ImageScanner {
  findings(request: ScanRequest): Promise<ScanFindings>;
}
