/**
 * ImageScanner backed by Amazon ECR image scanning (basic scanning, or enhanced scanning through
 * Amazon Inspector). It starts a scan of the pinned digest, waits for it with exponential backoff
 * and hands every finding, in the platform's terms, to the scan policy. It judges nothing itself,
 * and it ignores a report attached by CI: the registry's own scan of the digest is the evidence.
 */
import {
  DescribeImageScanFindingsCommand,
  StartImageScanCommand,
  type DescribeImageScanFindingsResponse,
  type ECRClient,
  type EnhancedImageScanFinding,
  type ImageScanFinding,
  type ImageScanFindings,
} from '@aws-sdk/client-ecr';
import type { ImageRef, ScanFinding, Severity } from '../../../shared/domain';
import type { ImageScanner, ScanFindings } from '../../ports/image-scanner';
import { configurationInvalid, ecrErrorName, EcrUnavailableError, translateEcrError } from './client';

const SCANNER = 'ecr';

/** What the scanner reports while it waits; the activity passes it on as heartbeat details. */
export interface EcrScanProgress {
  image: string;
  /** The last scan status ECR reported (`STARTING` before the first answer). */
  status: string;
  polls: number;
  elapsedMs: number;
  /** Findings pages read so far, once the scan is complete. */
  pages?: number;
}

export interface EcrImageScannerOptions {
  client: ECRClient;
  /** When set, only images in this account's registry are scanned; others are not available. */
  accountId?: string;
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** How long to wait for a scan to finish before failing (retryably) the attempt. */
  timeoutMs?: number;
  /** `maxResults` per DescribeImageScanFindings page (ECR allows 1–1000). */
  pageSize?: number;
  /** Called before every poll; wire it to `Context.current().heartbeat` in the activity. */
  onProgress?: (progress: EcrScanProgress) => void;
  /** Wire it to `Context.current().sleep` so a cancelled activity stops waiting at once. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Where an image lives in ECR, read from its registry host. */
export interface EcrImageLocation {
  registryId: string;
  region: string;
  repositoryName: string;
}

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` and the dual-stack `<account>.dkr-ecr.<region>.on.aws`. */
const ECR_HOSTS = [/^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, /^(\d{12})\.dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws$/];

export function ecrLocationOf(repository: string): EcrImageLocation | undefined {
  const slash = repository.indexOf('/');
  if (slash <= 0 || slash === repository.length - 1) return undefined;
  const host = repository.slice(0, slash).toLowerCase();
  for (const pattern of ECR_HOSTS) {
    const [, registryId, region] = pattern.exec(host) ?? [];
    if (registryId && region) return { registryId, region, repositoryName: repository.slice(slash + 1) };
  }
  return undefined;
}

/**
 * ECR (basic: CRITICAL…UNDEFINED) and Inspector (enhanced: CRITICAL…INFORMATIONAL, UNTRIAGED)
 * severities in the platform's scale. INFORMATIONAL, UNDEFINED, UNTRIAGED and anything new become
 * UNKNOWN, like a Trivy severity we do not know: never dropped, so a policy that blocks UNKNOWN
 * still sees them, and the counts add up to what ECR reported.
 */
export function ecrSeverity(severity: string | undefined): Severity {
  switch (severity?.toUpperCase()) {
    case 'CRITICAL':
      return 'CRITICAL';
    case 'HIGH':
      return 'HIGH';
    case 'MEDIUM':
      return 'MEDIUM';
    case 'LOW':
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

const TITLE_MAX = 200;

function shortTitle(text: string | undefined): string | undefined {
  const line = text?.trim().split('\n')[0];
  if (!line) return undefined;
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1)}…` : line;
}

/** Drops undefined fields: findings cross a Temporal payload boundary and are compared in tests. */
function finding(fields: { id: string; severity: Severity; pkg: string; installedVersion?: string | undefined; fixedVersion?: string | undefined; title?: string | undefined }): ScanFinding {
  const { installedVersion, fixedVersion, title, ...required } = fields;
  return { ...required, ...(installedVersion ? { installedVersion } : {}), ...(fixedVersion ? { fixedVersion } : {}), ...(title ? { title } : {}) };
}

function fromBasic(source: ImageScanFinding): ScanFinding {
  const attribute = (key: string): string | undefined => source.attributes?.find((a) => a.key === key)?.value;
  return finding({
    id: source.name ?? source.uri ?? 'unnamed finding',
    severity: ecrSeverity(source.severity),
    pkg: attribute('package_name') ?? 'unknown package',
    installedVersion: attribute('package_version'),
    title: shortTitle(source.description),
  });
}

/** Inspector writes this instead of leaving the field out when there is no fix. */
const NO_FIX = new Set(['NotAvailable', 'NONE', '']);

/** One finding per vulnerable package, as Trivy reports them, so counts mean the same for both scanners. */
function fromEnhanced(source: EnhancedImageScanFinding): ScanFinding[] {
  const details = source.packageVulnerabilityDetails;
  const id = details?.vulnerabilityId ?? source.title ?? source.findingArn ?? 'unnamed finding';
  const severity = ecrSeverity(source.severity);
  const title = shortTitle(source.title ?? source.description);
  const packages = details?.vulnerablePackages ?? [];
  if (packages.length === 0) return [finding({ id, severity, pkg: 'unknown package', title })];
  return packages.map((p) =>
    finding({
      id,
      severity,
      pkg: p.name ?? 'unknown package',
      installedVersion: p.version && p.release ? `${p.version}-${p.release}` : p.version,
      fixedVersion: p.fixedInVersion && !NO_FIX.has(p.fixedInVersion) ? p.fixedInVersion : undefined,
      title,
    }),
  );
}

/**
 * One page of ECR findings in the platform's terms. Enhanced findings Inspector has CLOSED (the
 * package is no longer vulnerable) are left out; SUPPRESSED ones are kept, because whether a
 * finding blocks a deployment is the environment policy's decision, not an Inspector rule's.
 */
export function toScanFindings(page: ImageScanFindings | undefined): ScanFinding[] {
  return [
    ...(page?.findings ?? []).map(fromBasic),
    ...(page?.enhancedFindings ?? []).filter((f) => f.status?.toUpperCase() !== 'CLOSED').flatMap(fromEnhanced),
  ];
}

/** Scans still running; anything not listed here or in READY is final and not a result. */
const RUNNING = new Set(['IN_PROGRESS', 'PENDING']);
/** ACTIVE: enhanced continuous scanning, whose findings are current. */
const READY = new Set(['COMPLETE', 'ACTIVE']);
const MISSING = new Set(['ImageNotFoundException', 'RepositoryNotFoundException']);

type Target = { registryId: string; repositoryName: string; imageId: { imageDigest: string } };

export function createEcrImageScanner(options: EcrImageScannerOptions): ImageScanner {
  const { client, accountId, pollInitialMs = 1_000, pollMaxMs = 15_000, timeoutMs = 10 * 60_000, pageSize = 1_000, onProgress } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const now = options.now ?? Date.now;

  const unavailable = (reason: string): ScanFindings => ({ available: false, scanner: SCANNER, reason });

  /** A missing repository or digest will not appear by retrying this activity. */
  const failed = (error: unknown, action: string, ref: string, location: EcrImageLocation): Error => {
    const name = ecrErrorName(error);
    if (name && MISSING.has(name)) {
      const what = name === 'RepositoryNotFoundException' ? `repository ${location.repositoryName} does not exist` : 'the repository holds no image with that digest';
      return configurationInvalid(`image ${ref} is not in ECR: ${what} (registry ${location.registryId}, ${location.region})`);
    }
    return translateEcrError(error, { action, subject: `image ${ref}` });
  };

  /** Whether a scan was started or is already known to ECR; a reason when none can be. */
  const start = async (target: Target, ref: string, location: EcrImageLocation): Promise<{ started: boolean; note?: string } | { reason: string }> => {
    try {
      await client.send(new StartImageScanCommand(target));
      return { started: true };
    } catch (error) {
      const name = ecrErrorName(error);
      const message = error instanceof Error ? error.message : String(error);
      // The once-a-day quota: a scan of this digest ran today or is running now (moto: on the second call).
      if (name === 'LimitExceededException') return { started: true };
      // Registries on enhanced scanning refuse manual scans; Inspector scans on push or continuously.
      if (name === 'ValidationException') return { started: false, note: message };
      if (name === 'UnsupportedImageTypeException') return { reason: `ECR cannot scan image ${ref}: ${message}` };
      if (name === 'ImageArchivedException') return { reason: `image ${ref} is archived in ECR and cannot be scanned until it is restored` };
      throw failed(error, 'StartImageScan', ref, location);
    }
  };

  const describe = async (target: Target, ref: string, location: EcrImageLocation, nextToken?: string): Promise<DescribeImageScanFindingsResponse | undefined> => {
    try {
      return await client.send(new DescribeImageScanFindingsCommand({ ...target, maxResults: pageSize, ...(nextToken ? { nextToken } : {}) }));
    } catch (error) {
      if (ecrErrorName(error) === 'ScanNotFoundException') return undefined;
      throw failed(error, 'DescribeImageScanFindings', ref, location);
    }
  };

  /**
   * The rest of the pages after the first, reporting progress per page (a large enhanced scan
   * takes many requests); a token ECR repeats would otherwise loop forever.
   */
  const remainingPages = async (first: DescribeImageScanFindingsResponse, target: Target, ref: string, location: EcrImageLocation, progress: EcrScanProgress): Promise<ScanFinding[]> => {
    const findings = toScanFindings(first.imageScanFindings);
    const seen = new Set<string>();
    for (let token = first.nextToken; token; ) {
      if (seen.has(token)) throw new EcrUnavailableError(`ECR returned the same findings page token twice for image ${ref}`);
      seen.add(token);
      onProgress?.({ ...progress, pages: seen.size });
      const page = await describe(target, ref, location, token);
      if (!page) throw new EcrUnavailableError(`the ECR scan of image ${ref} disappeared while its findings were being read`);
      findings.push(...toScanFindings(page.imageScanFindings));
      token = page.nextToken;
    }
    return findings;
  };

  return {
    async findings({ image }: { image: ImageRef }): Promise<ScanFindings> {
      const ref = `${image.repository}@${image.digest}`;
      const location = ecrLocationOf(image.repository);
      if (!location) {
        return unavailable(`image ${ref} is not in Amazon ECR (${image.repository.split('/')[0]} is not an ECR registry host), so ECR has no scan of it`);
      }
      if (accountId && location.registryId !== accountId) {
        return unavailable(`image ${ref} is in the ECR registry of account ${location.registryId}; this platform scans images in account ${accountId} only`);
      }
      const region = await client.config.region();
      if (location.region !== region) {
        return unavailable(`image ${ref} is in ECR region ${location.region}; this platform's ECR scanner works in ${region}`);
      }

      const target: Target = { registryId: location.registryId, repositoryName: location.repositoryName, imageId: { imageDigest: image.digest } };
      const started = await start(target, ref, location);
      if ('reason' in started) return unavailable(started.reason);

      const begun = now();
      let status = 'STARTING';
      for (let polls = 1, delay = pollInitialMs; ; polls += 1, delay = Math.min(delay * 2, pollMaxMs)) {
        onProgress?.({ image: ref, status, polls, elapsedMs: now() - begun });
        const response = await describe(target, ref, location);
        if (!response && !started.started) {
          return unavailable(`ECR has no scan of image ${ref} and would not start one: ${started.note ?? 'manual scans are refused'}`);
        }
        // No scan yet right after starting one: ECR has not recorded it; wait as for PENDING.
        status = response?.imageScanStatus?.status ?? 'PENDING';
        if (response && READY.has(status)) {
          const findings = await remainingPages(response, target, ref, location, { image: ref, status, polls, elapsedMs: now() - begun });
          return { available: true, scanner: SCANNER, findings };
        }
        if (!RUNNING.has(status)) {
          const description = response?.imageScanStatus?.description;
          return unavailable(`the ECR scan of image ${ref} ended ${status}${description ? `: ${description}` : ''}`);
        }
        const left = timeoutMs - (now() - begun);
        if (left <= 0) {
          // Retryable: the next attempt finds the scan (the quota makes StartImageScan a no-op) and waits on.
          throw new EcrUnavailableError(`the ECR scan of image ${ref} did not finish within ${Math.round(timeoutMs / 1000)} s (last status ${status})`);
        }
        await sleep(Math.min(delay, left));
      }
    },
  };
}
