/**
 * The ECR image scanner against a real moto_server, and against recorded ECR responses for what
 * moto does not model (a scan that takes a while, several findings pages, throttling, 5xx, access
 * denied). Run: npx tsx --test test/aws/ecr-scanner.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateRepositoryCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { ApplicationFailure } from '@temporalio/common';
import { EcrUnavailableError } from '../../activities/adapters/ecr/client';
import { createEcrImageScanner, ecrLocationOf, type EcrImageScannerOptions, type EcrScanProgress } from '../../activities/adapters/ecr/scanner';
import { createTrivyReportScanner } from '../../activities/adapters/trivy/report-scanner';
import { judgeScan } from '../../activities/scan-policy';
import type { ImageRef, ScanFinding } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import { ecrError, failureOf, MOTO_ACCOUNT, recordedEcrClient, seedImage, startMoto, type MotoServer, type RecordedCall, type RecordedReply } from './moto';

const REGION = 'eu-west-1';
const REPOSITORY = 'acme/payments';
const HOST = `${MOTO_ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

function ecrImage(digest: string, repositoryName = REPOSITORY, host = HOST): ImageRef {
  return { reference: `${host}/${repositoryName}:1.0.0@${digest}`, repository: `${host}/${repositoryName}`, tag: '1.0.0', digest };
}

/** Fast polling: the tests must not wait for production backoff. */
function scannerFor(client: ECRClient, options: Partial<EcrImageScannerOptions> = {}) {
  return createEcrImageScanner({ client, pollInitialMs: 5, pollMaxMs: 20, timeoutMs: 5_000, ...options });
}

/** A DescribeImageScanFindings response for moto to hand back instead of its default finding. */
function scanResult(digest: string, imageScanFindings: Record<string, unknown>, status = 'COMPLETE', description = 'The scan was completed successfully.') {
  return { registryId: MOTO_ACCOUNT, repositoryName: REPOSITORY, imageId: { imageDigest: digest }, imageScanStatus: { status, description }, imageScanFindings };
}

function basicFinding(name: string, severity: string, pkg: string, version: string) {
  return { name, severity, uri: `https://nvd.nist.gov/vuln/detail/${name}`, attributes: [{ key: 'package_version', value: version }, { key: 'package_name', value: pkg }, { key: 'CVSS3_SCORE', value: '7.5' }] };
}

describe('ECR image scanner against moto', () => {
  let moto: MotoServer;
  let client: ECRClient;

  before(async () => {
    moto = await startMoto();
    client = moto.ecrClient({ maxAttempts: 1 });
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await client.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
  });

  it('when an ECR image is scanned, then moto\'s default HIGH finding comes back in platform terms and progress was reported', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    const progress: EcrScanProgress[] = [];
    const result = await scannerFor(client, { onProgress: (p) => progress.push(p) }).findings({ image: ecrImage(digest) });
    assert.deepEqual(result, {
      available: true,
      scanner: 'ecr',
      findings: [{ id: 'CVE-9999-9999', severity: 'HIGH', pkg: 'moto_fake', installedVersion: '9.9.9' }],
    });
    assert.equal(progress.length, 1, 'moto completes at once: one poll');
    assert.equal(progress[0]?.image, `${HOST}/${REPOSITORY}@${digest}`);
  });

  it('when the image was already scanned today (moto: LimitExceededException on the second StartImageScan), then it is not an error and the findings are read', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    await scannerFor(client).findings({ image: ecrImage(digest) });
    // The production client configuration: the SDK retries LimitExceededException (it counts it as throttling) before we see it.
    const productionLike = moto.ecrClient();
    try {
      const again = await scannerFor(productionLike).findings({ image: ecrImage(digest) });
      assert.equal(again.available, true);
      assert.ok(again.available);
      assert.equal(again.findings.length, 1);
    } finally {
      productionLike.destroy();
    }
  });

  it('when findings are posted for the image, then every severity is mapped (INFORMATIONAL and UNDEFINED become UNKNOWN) with package and version', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    await moto.setEcrScanFindings(REGION, [
      scanResult(digest, {
        findings: [
          basicFinding('CVE-2024-3094', 'CRITICAL', 'xz-utils', '5.6.0-0.1'),
          basicFinding('CVE-2023-4911', 'HIGH', 'libc6', '2.36-9'),
          { ...basicFinding('CVE-2023-5678', 'MEDIUM', 'openssl', '3.0.11-1'), description: 'Generating excessively long X9.42 DH keys may be slow.\nMore text.' },
          basicFinding('CVE-2022-0001', 'LOW', 'bash', '5.2-2'),
          basicFinding('CVE-2021-0002', 'INFORMATIONAL', 'tzdata', '2024a'),
          basicFinding('CVE-2020-0003', 'UNDEFINED', 'zlib1g', '1.2.13'),
        ],
        findingSeverityCounts: { CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1, INFORMATIONAL: 1, UNDEFINED: 1 },
      }),
    ]);
    const result = await scannerFor(client).findings({ image: ecrImage(digest) });
    assert.ok(result.available);
    assert.deepEqual(
      result.findings.map((f) => [f.id, f.severity, f.pkg, f.installedVersion]),
      [
        ['CVE-2024-3094', 'CRITICAL', 'xz-utils', '5.6.0-0.1'],
        ['CVE-2023-4911', 'HIGH', 'libc6', '2.36-9'],
        ['CVE-2023-5678', 'MEDIUM', 'openssl', '3.0.11-1'],
        ['CVE-2022-0001', 'LOW', 'bash', '5.2-2'],
        ['CVE-2021-0002', 'UNKNOWN', 'tzdata', '2024a'],
        ['CVE-2020-0003', 'UNKNOWN', 'zlib1g', '1.2.13'],
      ],
    );
    assert.equal(result.findings[2]?.title, 'Generating excessively long X9.42 DH keys may be slow.', 'the first line of the description');
  });

  it('when the registry uses enhanced scanning (an Inspector-shaped response posted to moto), then one finding per vulnerable package, UNTRIAGED is UNKNOWN and CLOSED ones are left out', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    const enhanced = (id: string, severity: string, packages: Array<{ name: string; version: string; release?: string; fixedInVersion?: string }>, status = 'ACTIVE') => ({
      awsAccountId: MOTO_ACCOUNT,
      findingArn: `arn:aws:inspector2:${REGION}:${MOTO_ACCOUNT}:finding/${id.toLowerCase()}`,
      severity,
      status,
      title: `${id} - ${packages.map((p) => p.name).join(', ')}`,
      type: 'PACKAGE_VULNERABILITY',
      firstObservedAt: 1_718_000_000,
      packageVulnerabilityDetails: { vulnerabilityId: id, source: 'NVD', vulnerablePackages: packages.map((p) => ({ packageManager: 'OS', ...p })) },
    });
    await moto.setEcrScanFindings(REGION, [
      scanResult(
        digest,
        {
          enhancedFindings: [
            enhanced('CVE-2024-6387', 'HIGH', [
              { name: 'openssh-server', version: '9.2p1', release: '2+deb12u2', fixedInVersion: '1:9.2p1-2+deb12u3' },
              { name: 'openssh-client', version: '9.2p1', release: '2+deb12u2', fixedInVersion: 'NotAvailable' },
            ]),
            enhanced('CVE-2024-0001', 'UNTRIAGED', [{ name: 'left-pad', version: '1.3.0' }]),
            enhanced('CVE-2023-0002', 'CRITICAL', [{ name: 'old-lib', version: '0.1.0' }], 'CLOSED'),
          ],
          findingSeverityCounts: { HIGH: 1, UNTRIAGED: 1 },
        },
        'ACTIVE',
        'Continuous scan is selected for image.',
      ),
    ]);
    const result = await scannerFor(client).findings({ image: ecrImage(digest) });
    assert.ok(result.available, 'ACTIVE (continuous scanning) counts as a finished scan');
    assert.deepEqual(result.findings, [
      { id: 'CVE-2024-6387', severity: 'HIGH', pkg: 'openssh-server', installedVersion: '9.2p1-2+deb12u2', fixedVersion: '1:9.2p1-2+deb12u3', title: 'CVE-2024-6387 - openssh-server, openssh-client' },
      { id: 'CVE-2024-6387', severity: 'HIGH', pkg: 'openssh-client', installedVersion: '9.2p1-2+deb12u2', title: 'CVE-2024-6387 - openssh-server, openssh-client' },
      { id: 'CVE-2024-0001', severity: 'UNKNOWN', pkg: 'left-pad', installedVersion: '1.3.0', title: 'CVE-2024-0001 - left-pad' },
    ]);
  });

  it('when the image has 250 findings and pages are 10 long, then all 250 are read (moto ignores maxResults; real paging is the recorded test below)', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    const many = Array.from({ length: 250 }, (_, i) => basicFinding(`CVE-2024-${String(10_000 + i)}`, i % 2 ? 'LOW' : 'MEDIUM', `pkg-${i}`, '1.0'));
    await moto.setEcrScanFindings(REGION, [scanResult(digest, { findings: many })]);
    const result = await scannerFor(client, { pageSize: 10 }).findings({ image: ecrImage(digest) });
    assert.ok(result.available);
    assert.equal(result.findings.length, 250);
    assert.equal(new Set(result.findings.map((f) => f.id)).size, 250);
  });

  it('when ECR keeps answering with the same page token, then the attempt fails retryably instead of looping', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    await moto.setEcrScanFindings(REGION, [{ ...scanResult(digest, { findings: [basicFinding('CVE-1', 'LOW', 'a', '1')] }), nextToken: 'page-2' }]);
    const error = await failureOf(scannerFor(client).findings({ image: ecrImage(digest) }));
    assert.ok(error instanceof EcrUnavailableError && !(error instanceof ApplicationFailure));
    assert.match(error.message, /same findings page token/);
  });

  it('when the scan FAILED, then findings are unavailable with ECR\'s description, for the policy to decide', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    await moto.setEcrScanFindings(REGION, [scanResult(digest, {}, 'UNSUPPORTED_IMAGE', 'The operating system and/or package manager are not supported.')]);
    const result = await scannerFor(client).findings({ image: ecrImage(digest) });
    assert.equal(result.available, false);
    assert.ok(!result.available);
    assert.match(result.reason, /ended UNSUPPORTED_IMAGE: The operating system and\/or package manager are not supported/);
    assert.match(result.reason, new RegExp(digest));
  });

  it('when the digest is not in the repository, then a non-retryable failure says the image is not in ECR', async () => {
    await seedImage(client, REPOSITORY, '1.0.0');
    const missing = `sha256:${'d'.repeat(64)}`;
    const error = await failureOf(scannerFor(client).findings({ image: ecrImage(missing) }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, ErrorType.ConfigurationInvalid);
    assert.equal(error.message, `image ${HOST}/${REPOSITORY}@${missing} is not in ECR: the repository holds no image with that digest (registry ${MOTO_ACCOUNT}, ${REGION})`);
  });

  it('when the repository does not exist, then a non-retryable failure says so', async () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const error = await failureOf(scannerFor(client).findings({ image: ecrImage(digest, 'acme/unknown') }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /^image .*acme\/unknown@sha256:e+ is not in ECR: repository acme\/unknown does not exist/);
  });

  it('when the image is not in an ECR registry, then findings are unavailable (no ECR call) and the reason says why', async () => {
    const digest = `sha256:${'f'.repeat(64)}`;
    const result = await scannerFor(client).findings({ image: ecrImage(digest, 'acme/payments', 'ghcr.io') });
    assert.deepEqual(result, {
      available: false,
      scanner: 'ecr',
      reason: `image ghcr.io/acme/payments@${digest} is not in Amazon ECR (ghcr.io is not an ECR registry host), so ECR has no scan of it`,
    });
  });

  it('when the image is in another region\'s or another account\'s ECR, then findings are unavailable and the reason names it', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    const otherRegion = await scannerFor(client).findings({ image: ecrImage(digest, REPOSITORY, `${MOTO_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`) });
    assert.ok(!otherRegion.available);
    assert.match(otherRegion.reason, /is in ECR region us-east-1; this platform's ECR scanner works in eu-west-1/);
    const otherAccount = await scannerFor(client, { accountId: MOTO_ACCOUNT }).findings({ image: ecrImage(digest, REPOSITORY, `210987654321.dkr.ecr.${REGION}.amazonaws.com`) });
    assert.ok(!otherAccount.available);
    assert.match(otherAccount.reason, /registry of account 210987654321; this platform scans images in account 123456789012 only/);
  });

  it('when ECR findings are judged by the environment policy, then the verdict is the same as for the same findings in a Trivy report', async () => {
    const digest = await seedImage(client, REPOSITORY, '1.0.0');
    await moto.setEcrScanFindings(REGION, [
      scanResult(digest, {
        findings: [basicFinding('CVE-2024-3094', 'CRITICAL', 'xz-utils', '5.6.0'), basicFinding('CVE-2023-4911', 'HIGH', 'libc6', '2.36'), basicFinding('CVE-2022-0001', 'LOW', 'bash', '5.2'), basicFinding('CVE-2021-0002', 'INFORMATIONAL', 'tzdata', '2024a')],
      }),
    ]);
    const policy = { required: true, blockSeverities: ['CRITICAL' as const, 'HIGH' as const] };
    const fromEcr = await scannerFor(client).findings({ image: ecrImage(digest) });
    assert.ok(fromEcr.available);
    const ecrVerdict = judgeScan(fromEcr, policy);

    const image = ecrImage(digest);
    const sameFindings: ScanFinding[] = fromEcr.findings.map((f) => ({ ...f }));
    const fromTrivy = await createTrivyReportScanner().findings({ image, report: { source: 'trivy', repoDigests: [`${image.repository}@${digest}`], findings: sameFindings } });
    const trivyVerdict = judgeScan(fromTrivy, policy);

    assert.equal(ecrVerdict.passed, false);
    assert.deepEqual(ecrVerdict.counts, { CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 1 });
    assert.equal(ecrVerdict.blockingFindings, 2);
    assert.match(ecrVerdict.reason ?? '', /^1 CRITICAL, 1 HIGH findings are of a blocked severity \(CRITICAL, HIGH\): CVE-2024-3094 \(xz-utils 5\.6\.0, CRITICAL\), CVE-2023-4911/);
    assert.deepEqual({ ...ecrVerdict, scanner: 'any' }, { ...trivyVerdict, scanner: 'any' });
    assert.equal(ecrVerdict.scanner, 'ecr');
  });
});

describe('ECR image scanner against recorded ECR responses (what moto does not model)', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  const image = ecrImage(DIGEST);
  const complete = (findings: unknown[], nextToken?: string): RecordedReply => ({
    status: 200,
    body: { ...scanResult(DIGEST, { findings, imageScanCompletedAt: 1_718_000_000 }), ...(nextToken ? { nextToken } : {}) },
  });
  const status = (s: string): RecordedReply => ({ status: 200, body: scanResult(DIGEST, {}, s, `${s.toLowerCase()}`) });
  const started: RecordedReply = { status: 200, body: { registryId: MOTO_ACCOUNT, repositoryName: REPOSITORY, imageId: { imageDigest: DIGEST }, imageScanStatus: { status: 'IN_PROGRESS' } } };

  /** Answers StartImageScan with `start` and each DescribeImageScanFindings with the next of `describes`. */
  function ecr(start: RecordedReply, describes: RecordedReply[]): { client: ECRClient; calls: RecordedCall[] } {
    let next = 0;
    return recordedEcrClient((call) => {
      if (call.action === 'StartImageScan') return start;
      if (call.action === 'DescribeImageScanFindings') return describes[Math.min(next++, describes.length - 1)] ?? assert.fail('no reply');
      return assert.fail(`unexpected ECR call ${call.action}`);
    });
  }

  it('when the scan is PENDING then IN_PROGRESS then COMPLETE, then it waits with doubling, capped delays and reports progress on every poll', async () => {
    const { client, calls } = ecr(started, [{ status: 400, body: { __type: 'ScanNotFoundException', message: 'not yet' } }, status('PENDING'), status('IN_PROGRESS'), status('IN_PROGRESS'), complete([basicFinding('CVE-1', 'HIGH', 'a', '1')])]);
    const delays: number[] = [];
    const progress: EcrScanProgress[] = [];
    const scanner = createEcrImageScanner({ client, pollInitialMs: 1_000, pollMaxMs: 3_000, sleep: async (ms) => void delays.push(ms), onProgress: (p) => progress.push(p) });
    const result = await scanner.findings({ image });
    assert.ok(result.available);
    assert.equal(result.findings.length, 1);
    assert.deepEqual(delays, [1_000, 2_000, 3_000, 3_000]);
    assert.deepEqual(progress.map((p) => [p.polls, p.status]), [[1, 'STARTING'], [2, 'PENDING'], [3, 'PENDING'], [4, 'IN_PROGRESS'], [5, 'IN_PROGRESS']]);
    assert.deepEqual(calls[0]?.body, { registryId: MOTO_ACCOUNT, repositoryName: REPOSITORY, imageId: { imageDigest: DIGEST } });
  });

  it('when the scan does not finish in time, then the attempt fails retryably and names the last status', async () => {
    const { client } = ecr(started, [status('IN_PROGRESS')]);
    let clock = 0;
    const scanner = createEcrImageScanner({ client, timeoutMs: 60_000, now: () => clock, sleep: async (ms) => void (clock += ms) });
    const error = await failureOf(scanner.findings({ image }));
    assert.ok(error instanceof EcrUnavailableError && !(error instanceof ApplicationFailure));
    assert.match(error.message, /did not finish within 60 s \(last status IN_PROGRESS\)/);
    assert.equal(clock, 60_000, 'the last wait is cut to the deadline');
  });

  it('when the findings span three pages, then every page is read with its nextToken and progress is reported per page', async () => {
    const { client, calls } = ecr(started, [
      complete([basicFinding('CVE-1', 'HIGH', 'a', '1'), basicFinding('CVE-2', 'LOW', 'b', '1')], 'token-2'),
      complete([basicFinding('CVE-3', 'MEDIUM', 'c', '1')], 'token-3'),
      complete([basicFinding('CVE-4', 'CRITICAL', 'd', '1')]),
    ]);
    const progress: EcrScanProgress[] = [];
    const result = await createEcrImageScanner({ client, pageSize: 2, onProgress: (p) => progress.push(p) }).findings({ image });
    assert.ok(result.available);
    assert.deepEqual(result.findings.map((f) => f.id), ['CVE-1', 'CVE-2', 'CVE-3', 'CVE-4']);
    assert.deepEqual(progress.map((p) => p.pages), [undefined, 1, 2], 'a heartbeat before every further page');
    const pages = calls.filter((c) => c.action === 'DescribeImageScanFindings').map((c) => [c.body.nextToken, c.body.maxResults]);
    assert.deepEqual(pages, [[undefined, 2], ['token-2', 2], ['token-3', 2]]);
  });

  it('when ECR throttles (ThrottlingException, HTTP 400), then the failure is a plain retryable Error', async () => {
    const { client } = ecr(ecrError(400, 'ThrottlingException', 'Rate exceeded'), []);
    const error = await failureOf(createEcrImageScanner({ client }).findings({ image }));
    assert.ok(error instanceof EcrUnavailableError && !(error instanceof ApplicationFailure));
    assert.match(error.message, /ecr:StartImageScan .*ThrottlingException: Rate exceeded/);
  });

  it('when ECR answers 503 or the connection is refused, then the failure is retryable', async () => {
    const unavailable = ecr(started, [ecrError(503, 'ServerException', 'Service Unavailable')]);
    assert.ok((await failureOf(createEcrImageScanner({ client: unavailable.client }).findings({ image }))) instanceof EcrUnavailableError);
    const refused = ecr(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }), []);
    const error = await failureOf(createEcrImageScanner({ client: refused.client }).findings({ image }));
    assert.ok(error instanceof EcrUnavailableError);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('when the platform may not read scans (AccessDeniedException), then a non-retryable failure names the IAM action', async () => {
    const { client } = ecr(started, [ecrError(400, 'AccessDeniedException', `User: arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/platform/worker is not authorized to perform: ecr:DescribeImageScanFindings`)]);
    const error = await failureOf(createEcrImageScanner({ client }).findings({ image }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, ErrorType.ConfigurationInvalid);
    assert.match(error.message, /may not call ecr:DescribeImageScanFindings on image .* \(grant that IAM action\)/);
  });

  it('when the registry refuses manual scans (enhanced scanning: ValidationException), then the scan Inspector made is read', async () => {
    const { client } = ecr(ecrError(400, 'ValidationException', 'This feature is disabled'), [complete([basicFinding('CVE-1', 'MEDIUM', 'a', '1')])]);
    const result = await createEcrImageScanner({ client }).findings({ image });
    assert.ok(result.available);
    assert.equal(result.findings.length, 1);
    const none = ecr(ecrError(400, 'ValidationException', 'This feature is disabled'), [ecrError(400, 'ScanNotFoundException', 'no scan')]);
    const unavailable = await createEcrImageScanner({ client: none.client }).findings({ image });
    assert.ok(!unavailable.available);
    assert.match(unavailable.reason, /has no scan of image .* and would not start one: This feature is disabled/);
  });

  it('when ECR cannot scan the image type (UnsupportedImageTypeException), then findings are unavailable', async () => {
    const { client } = ecr(ecrError(400, 'UnsupportedImageTypeException', 'The image is of a type that cannot be scanned.'), []);
    const result = await createEcrImageScanner({ client }).findings({ image });
    assert.ok(!result.available);
    assert.match(result.reason, /ECR cannot scan image .*: The image is of a type that cannot be scanned/);
  });
});

describe('ECR image locations', () => {
  it('when an image names an ECR host (standard, FIPS, China, dual-stack), then account, region and repository are read from it', () => {
    assert.deepEqual(ecrLocationOf('123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/payments'), { registryId: '123456789012', region: 'eu-west-1', repositoryName: 'acme/payments' });
    assert.equal(ecrLocationOf('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/a')?.region, 'us-east-1');
    assert.equal(ecrLocationOf('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a')?.region, 'cn-north-1');
    assert.equal(ecrLocationOf('123456789012.dkr-ecr.eu-west-1.on.aws/a/b')?.repositoryName, 'a/b');
  });

  it('when an image names another registry or has no repository path, then it is not an ECR location', () => {
    for (const repository of ['ghcr.io/acme/payments', 'public.ecr.aws/acme/payments', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/', 'evil.com/123456789012.dkr.ecr.eu-west-1.amazonaws.com/a', '12345.dkr.ecr.eu-west-1.amazonaws.com/a']) {
      assert.equal(ecrLocationOf(repository), undefined, repository);
    }
  });
});
