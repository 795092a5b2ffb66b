/**
 * The deploy step the pipelines run, executed for real (sh, curl, jq) against a fake platform: from
 * the GitHub workflow, from the Jenkinsfile and from scripts/deploy-to-platform.sh.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderProjectSkeleton } from '../../shared/project-templates';
import { sampleContext } from './fixtures';
import { githubWorkflow, jenkinsShellBlocks } from './pipeline-files';

const TOKEN = 'test-token-0f3a9c';
const IMAGE_REF = `registry.example.com/retail/shop@sha256:${'ab'.repeat(32)}`;
const DEPLOYMENT_ID = 'deploy.shop.shop.staging.abababababababab';
const TRIVY_REPORT = { SchemaVersion: 2, ArtifactName: IMAGE_REF, Results: [] };

const missingTools = ['sh', 'bash', 'curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers POST /v1/deployments with `post`, then each GET with the next status (the last one repeats). */
async function fakePlatform(post: { status: number; body: unknown }, statuses: string[]) {
  const requests: Recorded[] = [];
  let polls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/v1/deployments') return reply(post.status, post.body);
      if (req.method === 'GET' && req.url === `/v1/deployments/${DEPLOYMENT_ID}`) {
        const status = statuses[Math.min(polls++, statuses.length - 1)];
        return reply(200, { deploymentId: DEPLOYMENT_ID, status, stage: 'awaitApproval', ...(status === 'rejected' ? { error: { type: 'ApprovalRejected', message: 'not today' } } : {}) });
      }
      reply(404, { title: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const accepted = { status: 202, body: { deploymentId: DEPLOYMENT_ID, status: 'running', links: { temporalUi: 'https://temporal.example.com/run' } } };

interface Run {
  code: number | null;
  output: string;
}

/** Asynchronous on purpose: the fake platform answers from this same event loop. */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PLATFORM_POLL_SECONDS: '0', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

type Variant = 'github' | 'jenkins' | 'script';

/** Runs the staging deploy step as the given CI system would, in a fresh workspace. */
async function deployStaging(variant: Variant, apiUrl: string, imageRef = IMAGE_REF): Promise<Run> {
  const { files } = renderProjectSkeleton('node-web', { ...sampleContext, platformApiUrl: apiUrl });
  const workspace = mkdtempSync(join(tmpdir(), 'deploy-step-'));
  try {
    writeFileSync(join(workspace, 'trivy-report.json'), JSON.stringify(TRIVY_REPORT));
    const secrets = { PLATFORM_TOKEN: TOKEN };
    switch (variant) {
      case 'github': {
        const job = githubWorkflow(files['.github/workflows/deploy.yml']!).jobs['deploy-staging']!;
        const step = job.steps.find((candidate) => candidate.run?.includes('/v1/deployments'))!;
        writeFileSync(join(workspace, 'step.sh'), step.run!);
        // GitHub's default shell for `run` on Linux runners.
        return await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', 'step.sh'], workspace, {
          ...secrets,
          ENVIRONMENT: job.env!.ENVIRONMENT!,
          IMAGE_REF: imageRef,
          IDEMPOTENCY_KEY: '4242-1-staging',
        });
      }
      case 'jenkins': {
        const deployBlock = jenkinsShellBlocks(files.Jenkinsfile!).find((block) => block.shell.includes('/v1/deployments'));
        writeFileSync(join(workspace, 'step.sh'), deployBlock!.shell);
        writeFileSync(join(workspace, 'image-ref.txt'), `${imageRef}\n`);
        // Jenkins runs `sh` steps with -xe: the trace must not reveal the token.
        return await run('sh', ['-xe', 'step.sh'], workspace, { ...secrets, ENVIRONMENT: 'staging', IDEMPOTENCY_KEY: 'jenkins-shop-main-7-staging', BUILD_TAG: 'jenkins-shop-main-7' });
      }
      case 'script': {
        writeFileSync(join(workspace, 'deploy.sh'), files['scripts/deploy-to-platform.sh']!);
        return await run('sh', ['deploy.sh', 'staging', imageRef], workspace, { ...secrets, IDEMPOTENCY_KEY: 'manual-staging' });
      }
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

describe('the deploy step against a fake platform', { skip: missingTools.length > 0 ? `needs ${missingTools.join(', ')}` : false }, () => {
  for (const variant of ['github', 'jenkins', 'script'] as const) {
    describe(`from ${variant}`, () => {
      let platform: Awaited<ReturnType<typeof fakePlatform>>;
      let result: Run;
      before(async () => {
        platform = await fakePlatform(accepted, ['awaiting_approval', 'running', 'succeeded']);
        result = await deployStaging(variant, platform.url);
      });
      after(() => platform.close());

      it('when the deployment succeeds, then the step exits 0 after polling to the end', () => {
        assert.equal(result.code, 0, result.output);
        assert.match(result.output, /deployed shop to staging/);
        assert.deepEqual(
          platform.requests.map((request) => `${request.method} ${request.url}`),
          ['POST /v1/deployments', ...Array<string>(3).fill(`GET /v1/deployments/${DEPLOYMENT_ID}`)],
        );
      });

      it('when it posts, then the body names project, service, environment, the image by digest, port, route and the Trivy report', () => {
        const post = platform.requests[0]!;
        assert.equal(post.headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(post.body), {
          project: 'shop',
          service: 'shop',
          environment: 'staging',
          image: IMAGE_REF,
          port: 3000,
          route: { host: 'shop.retail.apps.example.com', path: '/' },
          scanReport: TRIVY_REPORT,
        });
      });

      it('when it calls the platform, then every call carries the bearer token and the POST an idempotency key', () => {
        for (const request of platform.requests) assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
        assert.ok(platform.requests[0]!.headers['idempotency-key']);
      });

      it('when it logs, then the token never appears', () => {
        assert.ok(!result.output.includes(TOKEN), result.output);
      });
    });
  }

  it('when the change is rejected, then the step exits 1 with the status and the error', async () => {
    const platform = await fakePlatform(accepted, ['awaiting_approval', 'rejected']);
    try {
      const result = await deployStaging('github', platform.url);
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /ended rejected: \{"type":"ApprovalRejected","message":"not today"\}/);
    } finally {
      await platform.close();
    }
  });

  it('when the platform refuses the request, then the step exits 1 showing the problem and does not poll', async () => {
    const problem = { type: 'about:blank', title: 'Unprocessable', status: 422, detail: 'project shop has no landing zone for staging' };
    const platform = await fakePlatform({ status: 422, body: problem }, ['succeeded']);
    try {
      const result = await deployStaging('jenkins', platform.url);
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /did not accept the deployment: .*no landing zone for staging/);
      assert.deepEqual(
        platform.requests.map((request) => request.method),
        ['POST'],
      );
    } finally {
      await platform.close();
    }
  });

  it('when the image is not pinned by digest, then the step refuses before calling the platform', async () => {
    const platform = await fakePlatform(accepted, ['succeeded']);
    try {
      const result = await deployStaging('script', platform.url, 'registry.example.com/retail/shop:latest');
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /not registry\.example\.com\/retail\/shop pinned by digest/);
      assert.equal(platform.requests.length, 0);
    } finally {
      await platform.close();
    }
  });
});
