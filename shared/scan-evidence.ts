/**
 * Whether a CI scan report is about the image being deployed: its `Metadata.RepoDigests` (or, for
 * an image scanned before it was pushed, a digest in `ArtifactName`) must name the image's
 * repository and digest. Used by the API (a refusal at request time) and by the report scanner.
 */
import type { ImageRef, ScanReport } from './domain';

export type ScanEvidence =
  | { kind: 'matches' }
  /** The report names no digest at all: nothing says which image it is about. */
  | { kind: 'none'; reason: string }
  | { kind: 'mismatch'; reason: string };

/** `registry/repo[:tag]@sha256:…` → repository and digest. */
function parse(reference: string): { repository: string; digest: string } | undefined {
  const at = reference.lastIndexOf('@');
  if (at <= 0) return undefined;
  const name = reference.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  return { repository: colon >= 0 ? name.slice(0, colon) : name, digest: reference.slice(at + 1) };
}

export function scanEvidence(image: ImageRef, report: Pick<ScanReport, 'repoDigests' | 'artifactName'>): ScanEvidence {
  const references = report.repoDigests.length > 0 ? report.repoDigests : report.artifactName?.includes('@') ? [report.artifactName] : [];
  if (references.length === 0) {
    return { kind: 'none', reason: 'the scan report names no image digest (Metadata.RepoDigests, or a digest in ArtifactName), so nothing shows it is about this image' };
  }
  const parsed = references.map(parse);
  if (parsed.some((p) => p?.digest === image.digest && p.repository === image.repository)) return { kind: 'matches' };
  const shown = references.slice(0, 3).join(', ') + (references.length > 3 ? ` and ${references.length - 3} more` : '');
  const sameDigest = parsed.some((p) => p?.digest === image.digest);
  return {
    kind: 'mismatch',
    reason: sameDigest
      ? `the scan report is for ${shown}: the digest matches but the repository is not ${image.repository}`
      : `the scan report is for ${shown}, not for the image being deployed (${image.repository}@${image.digest})`,
  };
}
