/**
 * The generated pipelines' deploy step (platformctl deploy --wait) with platformctl on the PATH (as a
 * CI image provides it, or as the step installs it from PLATFORMCTL_PACKAGE): run as each CI system
 * would, against a real platform. The same step against a fake platform, and without platformctl
 * (installed from PLATFORMCTL_PACKAGE, or refused with exit 2), is tested in
 * test/templates/deploy-step.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderProjectSkeleton } from '../../shared/project-templates';
import { trivyReport } from '../helpers/fixtures';
import { startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { githubWorkflow, jenkinsShellBlocks } from '../templates/pipeline-files';
import { CLI, shown, startCli } from './run-cli';

let platform: TestPlatform;
let bin: string;
const service = `pipeline-${process.pid % 1000}`;
const imageRepository = 'registry.example.com/retail/payments';

before(async () => {
  platform = await startTestPlatform({ approvalPollIntervalMs: 1_000 });
  // As npm installs it: a symlink named platformctl in a bin folder on the PATH.
  bin = mkdtempSync(join(tmpdir(), 'platformctl-bin-'));
  symlinkSync(CLI, join(bin, 'platformctl'));
});
after(async () => {
  await platform.stop();
  rmSync(bin, { recursive: true, force: true });
});

function rendered() {
  return renderProjectSkeleton('node-web', {
    project: 'payments',
    tenant: 'retail',
    service,
    owners: { emails: ['owner@example.com'], group: 'team-payments' },
    environments: ['dev', 'staging'],
    platformApiUrl: platform.apiUrl,
    imageRepository,
    routeHost: `${service}.payments.example.com`,
  }).files;
}

/** A CI workspace holding the step's script and what the build stage left there (the Trivy report). */
function workspace(script: string, image: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-workspace-'));
  writeFileSync(join(dir, 'step.sh'), script);
  writeFileSync(join(dir, 'trivy-report.json'), JSON.stringify(trivyReport(image)));
  writeFileSync(join(dir, 'image-ref.txt'), `${image}\n`);
  return dir;
}

function ciEnv(token: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'), PLATFORM_TOKEN: token, PLATFORM_POLL_SECONDS: '1', ...extra };
}

describe('the deploy step with platformctl on the PATH', () => {
  it('when the GitHub workflow deploys to dev, then platformctl posts the request, prints each stage and exits 0', async () => {
    const image = `${imageRepository}@${uniqueDigest()}`;
    const job = githubWorkflow(rendered()['.github/workflows/deploy.yml']!).jobs['deploy-dev']!;
    const step = job.steps.find((candidate) => candidate.run?.includes('platformctl deploy'))!;
    const dir = workspace(step.run!, image);
    try {
      const result = await startCli(['--noprofile', '--norc', '-eo', 'pipefail', 'step.sh'], ciEnv(platform.tokens.payments, { ENVIRONMENT: 'dev', IMAGE_REF: image, IDEMPOTENCY_KEY: `gh-${service}-1-dev` }), { command: 'bash', cwd: dir }).done;
      assert.equal(result.code, 0, shown(result));
      assert.match(result.stdout, new RegExp(`^deployment deploy\\.payments\\.${service}\\.dev\\.[0-9a-f]{16} started`, 'm'));
      assert.match(result.stdout, /deploy succeeded: revision/);
      assert.match(result.stdout, new RegExp(`^deployment deploy\\.payments\\.${service}\\.dev\\.[0-9a-f]{16} succeeded in`, 'm'));
      assert.doesNotMatch(`${result.stdout}${result.stderr}`, /PLATFORMCTL_PACKAGE/, 'platformctl was found on the PATH, nothing was installed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the Jenkinsfile deploys to staging (sh -xe), then platformctl waits through the approval, exits 0, and the trace never shows the token', async () => {
    const image = `${imageRepository}@${uniqueDigest()}`;
    const block = jenkinsShellBlocks(rendered().Jenkinsfile!).find((candidate) => candidate.shell.includes('platformctl deploy'))!;
    const dir = workspace(block.shell, image);
    try {
      const step = startCli(['-xe', 'step.sh'], ciEnv(platform.tokens.payments, { ENVIRONMENT: 'staging', IDEMPOTENCY_KEY: `jenkins-${service}-7-staging`, BUILD_TAG: `jenkins-${service}-7` }), { command: 'sh', cwd: dir });
      await step.printed('waiting for approval of change');
      const change = /waiting for approval of change (CHG\d+)/.exec(step.stdout())![1]!;
      await platform.simulator('approve', change, 'jane.approver');
      const result = await step.done;
      assert.equal(result.code, 0, shown(result));
      assert.match(result.stdout, /awaitApproval succeeded: approved in ServiceNow/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(platform.tokens.payments), 'the token is not in the log');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("when the platform refuses the token (scripts/deploy-to-platform.sh), then the step exits with platformctl's 2 and the problem", async () => {
    const image = `${imageRepository}@${uniqueDigest()}`;
    const dir = workspace(rendered()['scripts/deploy-to-platform.sh']!, image);
    try {
      const result = await startCli(['step.sh', 'dev', image], ciEnv(platform.tokens.retailAdmin, { IDEMPOTENCY_KEY: 'manual-dev' }), { command: 'sh', cwd: dir }).done;
      assert.equal(result.code, 2, shown(result));
      assert.match(result.stderr, /^platformctl: Not allowed \(403\): .*"payments"/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
