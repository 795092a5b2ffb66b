/**
 * The deploy step the pipelines run, executed for real (sh, bash, and platformctl from cli/ on the
 * PATH, as npm installs it: a symlink) against a fake platform that answers like the API: from the
 * GitHub workflow, from the Jenkinsfile and from scripts/deploy-to-platform.sh. Also the step
 * without platformctl: installed from PLATFORMCTL_PACKAGE (a fake npm), or refused with exit 2.
 * The same step against a real platform: test/cli/pipeline.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderProjectSkeleton } from '../../shared/project-templates';
import { deploymentStartedSchema, deploymentStatusSchema, problemSchema } from '../../shared/schemas/responses';
import { CLI } from '../cli/run-cli';
import { sampleContext } from './fixtures';
import { githubWorkflow, jenkinsShellBlocks } from './pipeline-files';

const TOKEN = 'test-token-0f3a9c';
const IMAGE_REF = `registry.example.com/retail/shop@sha256:${'ab'.repeat(32)}`;
const DEPLOYMENT_ID = 'deploy.shop.shop.staging.abababababababab';
const RUN_ID = '01a218e7-b401-713d-bcc4-4a2f4654f574';
const TRIVY_REPORT = { SchemaVersion: 2, ArtifactName: IMAGE_REF, Results: [] };
const CHANGE = { number: 'CHG0030001', sysId: '2da15dde0a0a0b0c0d0e0f1011121314' };

/** Absolute paths: the step runs with a PATH of our making. */
function tool(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}
const TOOLS = { sh: tool('sh'), bash: tool('bash'), cat: tool('cat'), mkdir: tool('mkdir'), ln: tool('ln') };
const missingTools = Object.entries(TOOLS)
  .filter(([, path]) => path === undefined)
  .map(([name]) => name);

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type View = Record<string, unknown>;

const at = (second: number): string => new Date(Date.UTC(2026, 10, 26, 17, 29, second)).toISOString();
const step = (name: string, second: number, detail: string): View => ({ name, status: 'succeeded', startedAt: at(second), endedAt: at(second), detail });
const links = (base: string): View => ({
  self: `${base}/v1/deployments/${DEPLOYMENT_ID}`,
  cancel: `${base}/v1/deployments/${DEPLOYMENT_ID}/cancel`,
  temporalUi: `https://temporal.example.com/namespaces/default/workflows/${DEPLOYMENT_ID}/${RUN_ID}/history`,
});
const scanned = [step('scan', 1, '0 blocking findings'), step('render', 2, 'chart shop-0.1.0, 5 manifests'), step('openChange', 3, CHANGE.number)];

/** What GET /v1/deployments/{id} answers, reading after reading (the last one repeats). */
const READINGS: Record<'succeeded' | 'rejected', View[]> = {
  succeeded: [
    { status: 'running', stage: 'openChange', steps: scanned.slice(0, 2) },
    { status: 'awaiting_approval', stage: 'awaitApproval', steps: scanned, change: CHANGE, approval: { required: true, deadline: at(59) } },
    {
      status: 'succeeded',
      stage: 'done',
      endedAt: at(20),
      steps: [...scanned, step('awaitApproval', 10, 'approved in ServiceNow'), step('deploy', 12, 'revision 52bb00e8f9cc'), step('closeChange', 14, 'successful')],
      change: { ...CHANGE, outcome: 'successful' },
      approval: { required: true, decision: 'approved', approver: 'jane.approver', decidedAt: at(10) },
    },
  ],
  rejected: [
    { status: 'awaiting_approval', stage: 'awaitApproval', steps: scanned, change: CHANGE, approval: { required: true, deadline: at(59) } },
    {
      status: 'rejected',
      stage: 'done',
      endedAt: at(20),
      steps: [...scanned, { name: 'awaitApproval', status: 'failed', startedAt: at(4), endedAt: at(10), detail: 'rejected by jane.approver' }],
      change: { ...CHANGE, outcome: 'cancelled' },
      approval: { required: true, decision: 'rejected', approver: 'jane.approver', comment: 'not today', decidedAt: at(10) },
      error: { type: 'ApprovalRejected', message: 'change CHG0030001 was rejected by jane.approver: not today' },
    },
  ],
};

/**
 * POST /v1/deployments and GET /v1/deployments/{id} as the API answers them (each answer checked
 * against the API's response schemas), for the bearer token TOKEN only.
 */
async function fakePlatform(outcome: keyof typeof READINGS, refuse?: { status: number; detail: string }) {
  const requests: Recorded[] = [];
  let reads = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const base = `http://${req.headers.host ?? ''}`;
      const problem = (status: number, title: string, detail: string): void => answer(res, status, problemSchema.parse({ type: 'about:blank', title, status, detail, instance: req.url }), 'application/problem+json');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return problem(401, 'Unauthorized', 'a bearer token is required');
      if (req.method === 'POST' && req.url === '/v1/deployments') {
        if (refuse) return problem(refuse.status, 'Unprocessable', refuse.detail);
        const started = { deploymentId: DEPLOYMENT_ID, workflowId: DEPLOYMENT_ID, runId: RUN_ID, status: 'running', stage: 'scan', startedAt: at(0), steps: [], links: links(base), created: true };
        return answer(res, 202, deploymentStartedSchema.parse(started));
      }
      if (req.method === 'GET' && req.url === `/v1/deployments/${DEPLOYMENT_ID}`) {
        const readings = READINGS[outcome];
        const reading = readings[Math.min(reads++, readings.length - 1)]!;
        return answer(res, 200, deploymentStatusSchema.parse({ deploymentId: DEPLOYMENT_ID, workflowId: DEPLOYMENT_ID, runId: RUN_ID, startedAt: at(0), ...reading, links: links(base) }));
      }
      problem(404, 'Not Found', `no route ${req.method ?? ''} ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    calls: () => requests.map((request) => `${request.method} ${request.url}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

interface Run {
  code: number | null;
  output: string;
}

/** Asynchronous on purpose: the fake platform answers from this same event loop. */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { HOME: cwd, PLATFORM_POLL_SECONDS: '0', PLATFORM_WAIT_TIMEOUT: '30s', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

type Variant = 'github' | 'jenkins' | 'script';

/** Folders for the PATH: `tools` (only cat, mkdir, ln and node), `withCli` (platformctl as npm links it). */
let dirs: { root: string; tools: string; withCli: string };

before(() => {
  const root = mkdtempSync(join(tmpdir(), 'deploy-step-bin-'));
  dirs = { root, tools: join(root, 'tools'), withCli: join(root, 'with-cli') };
  mkdirSync(dirs.tools);
  mkdirSync(dirs.withCli);
  for (const name of ['cat', 'mkdir', 'ln'] as const) if (TOOLS[name]) symlinkSync(TOOLS[name], join(dirs.tools, name));
  symlinkSync(process.execPath, join(dirs.tools, 'node'));
  symlinkSync(CLI, join(dirs.withCli, 'platformctl'));
});
after(() => rmSync(dirs.root, { recursive: true, force: true }));

/** platformctl on the PATH, and nothing else of the machine's (no npm, no curl, no jq). */
const withPlatformctl = (): string => `${dirs.withCli}:${dirs.tools}`;
const withoutPlatformctl = (): string => dirs.tools;

interface Deploy {
  apiUrl: string;
  path: string;
  imageRef?: string;
  env?: Record<string, string>;
}

const IDEMPOTENCY_KEYS: Record<Variant, string> = { github: '4242-1-staging', jenkins: 'jenkins-shop-main-7-staging', script: 'manual-staging' };

/** Runs the staging deploy step as the given CI system would, in a fresh workspace. */
async function deployStaging(variant: Variant, { apiUrl, path, imageRef = IMAGE_REF, env = {} }: Deploy): Promise<Run> {
  const { files } = renderProjectSkeleton('node-web', { ...sampleContext, platformApiUrl: apiUrl });
  const workspace = mkdtempSync(join(tmpdir(), 'deploy-step-'));
  try {
    writeFileSync(join(workspace, 'trivy-report.json'), JSON.stringify(TRIVY_REPORT));
    const common = { PATH: path, PLATFORM_TOKEN: TOKEN, IDEMPOTENCY_KEY: IDEMPOTENCY_KEYS[variant], ...env };
    switch (variant) {
      case 'github': {
        const job = githubWorkflow(files['.github/workflows/deploy.yml']!).jobs['deploy-staging']!;
        const deploy = job.steps.find((candidate) => candidate.run?.includes('platformctl deploy'))!;
        writeFileSync(join(workspace, 'step.sh'), deploy.run!);
        // GitHub's default shell for `run` on Linux runners.
        return await run(TOOLS.bash!, ['--noprofile', '--norc', '-eo', 'pipefail', 'step.sh'], workspace, { ENVIRONMENT: job.env!.ENVIRONMENT!, IMAGE_REF: imageRef, ...common });
      }
      case 'jenkins': {
        const deployBlock = jenkinsShellBlocks(files.Jenkinsfile!).find((block) => block.shell.includes('platformctl deploy'));
        writeFileSync(join(workspace, 'step.sh'), deployBlock!.shell);
        writeFileSync(join(workspace, 'image-ref.txt'), `${imageRef}\n`);
        // Jenkins runs `sh` steps with -xe: the trace must not reveal the token.
        return await run(TOOLS.sh!, ['-xe', 'step.sh'], workspace, { ENVIRONMENT: 'staging', BUILD_TAG: 'jenkins-shop-main-7', ...common });
      }
      case 'script': {
        writeFileSync(join(workspace, 'deploy.sh'), files['scripts/deploy-to-platform.sh']!);
        // Traced too: a person debugging the script by hand.
        return await run(TOOLS.sh!, ['-x', 'deploy.sh', 'staging', imageRef], workspace, common);
      }
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

const EXPECTED_BODY = {
  project: 'shop',
  service: 'shop',
  environment: 'staging',
  image: IMAGE_REF,
  port: 3000,
  route: { host: 'shop.retail.apps.example.com', path: '/' },
  scanReport: TRIVY_REPORT,
};

describe('the deploy step with platformctl against a fake platform', { skip: missingTools.length > 0 ? `needs ${missingTools.join(', ')}` : false }, () => {
  for (const variant of ['github', 'jenkins', 'script'] as const) {
    describe(`from ${variant}`, () => {
      let platform: Awaited<ReturnType<typeof fakePlatform>>;
      let result: Run;
      before(async () => {
        platform = await fakePlatform('succeeded');
        result = await deployStaging(variant, { apiUrl: platform.url, path: withPlatformctl() });
      });
      after(() => platform.close());

      it('when the deployment succeeds, then platformctl posts it, follows it through the approval to the end and the step exits 0', () => {
        assert.equal(result.code, 0, result.output);
        assert.match(result.output, new RegExp(`^deployment ${DEPLOYMENT_ID.replace(/\./g, '\\.')} started \\(run ${RUN_ID}\\)$`, 'm'));
        assert.match(result.output, /waiting for approval of change CHG0030001/);
        assert.match(result.output, /deploy succeeded: revision 52bb00e8f9cc/);
        assert.match(result.output, new RegExp(`^deployment ${DEPLOYMENT_ID.replace(/\./g, '\\.')} succeeded in 20s$`, 'm'));
        assert.deepEqual(platform.calls(), ['POST /v1/deployments', ...Array<string>(READINGS.succeeded.length).fill(`GET /v1/deployments/${DEPLOYMENT_ID}`)]);
      });

      it('when it posts, then the body names project, service, environment, the image by digest, port, route and the Trivy report', () => {
        const post = platform.requests[0]!;
        assert.equal(post.headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(post.body), EXPECTED_BODY);
      });

      it("when it calls the platform, then every call carries the bearer token and the POST the pipeline's idempotency key", () => {
        for (const request of platform.requests) assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
        assert.equal(platform.requests[0]!.headers['idempotency-key'], IDEMPOTENCY_KEYS[variant]);
      });

      it(`when it logs${variant === 'github' ? '' : ' (traced with -x)'}, then the token never appears`, () => {
        if (variant !== 'github') assert.match(result.output, /^\+ set \+x$/m, 'the trace ran until the step turned it off');
        assert.ok(!result.output.includes(TOKEN), result.output);
      });
    });
  }

  it('when the change is rejected, then the step exits 1 with the status and the error', async () => {
    const platform = await fakePlatform('rejected');
    try {
      const result = await deployStaging('github', { apiUrl: platform.url, path: withPlatformctl() });
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /ended rejected: ApprovalRejected: change CHG0030001 was rejected by jane\.approver: not today/);
      assert.deepEqual(platform.calls(), ['POST /v1/deployments', `GET /v1/deployments/${DEPLOYMENT_ID}`, `GET /v1/deployments/${DEPLOYMENT_ID}`]);
    } finally {
      await platform.close();
    }
  });

  it("when the platform refuses the request, then the step exits with platformctl's 2 showing the problem and does not wait", async () => {
    const platform = await fakePlatform('succeeded', { status: 422, detail: 'project shop has no landing zone for staging' });
    try {
      const result = await deployStaging('jenkins', { apiUrl: platform.url, path: withPlatformctl() });
      assert.equal(result.code, 2, result.output);
      assert.match(result.output, /^platformctl: Unprocessable \(422\): project shop has no landing zone for staging$/m);
      assert.deepEqual(platform.calls(), ['POST /v1/deployments']);
    } finally {
      await platform.close();
    }
  });

  for (const [why, imageRef] of [
    ['is not pinned by digest', 'registry.example.com/retail/shop:latest'],
    ["is not the project's repository", `registry.example.com/retail/other@sha256:${'ab'.repeat(32)}`],
  ] as const) {
    it(`when the image ${why}, then the step refuses before calling the platform`, async () => {
      const platform = await fakePlatform('succeeded');
      try {
        const result = await deployStaging('script', { apiUrl: platform.url, path: withPlatformctl(), imageRef });
        assert.equal(result.code, 1, result.output);
        assert.ok(result.output.includes(`refusing to deploy ${imageRef}: not registry.example.com/retail/shop pinned by digest`), result.output);
        assert.deepEqual(platform.calls(), []);
      } finally {
        await platform.close();
      }
    });
  }
});

describe('the deploy step without platformctl on the PATH', { skip: missingTools.length > 0 ? `needs ${missingTools.join(', ')}` : false }, () => {
  for (const variant of ['github', 'jenkins', 'script'] as const) {
    it(`when PLATFORMCTL_PACKAGE is not set either (${variant}), then the step stops at once with exit 2, saying how to get platformctl, and sends nothing`, async () => {
      const platform = await fakePlatform('succeeded');
      try {
        const result = await deployStaging(variant, { apiUrl: platform.url, path: withoutPlatformctl() });
        assert.equal(result.code, 2, result.output);
        assert.match(result.output, /platformctl, the platform's CLI, is not on the PATH and PLATFORMCTL_PACKAGE is not set\./);
        assert.match(result.output, /Set the CI variable PLATFORMCTL_PACKAGE to where the platform team publishes platformctl/);
        assert.match(result.output, /'npm pack \.\/cli'/);
        assert.deepEqual(platform.calls(), []);
        assert.ok(!result.output.includes(TOKEN), result.output);
      } finally {
        await platform.close();
      }
    });
  }

  it('when PLATFORMCTL_PACKAGE is set but there is no npm, then the step stops with exit 2 saying it needs Node and npm', async () => {
    const platform = await fakePlatform('succeeded');
    try {
      const result = await deployStaging('jenkins', { apiUrl: platform.url, path: withoutPlatformctl(), env: { PLATFORMCTL_PACKAGE: 'https://artifacts.example.com/platformctl-0.1.0.tgz' } });
      assert.equal(result.code, 2, result.output);
      assert.match(result.output, /installing platformctl from PLATFORMCTL_PACKAGE needs Node >= 20\.3 and npm on the agent/);
      assert.deepEqual(platform.calls(), []);
    } finally {
      await platform.close();
    }
  });

  it('when PLATFORMCTL_PACKAGE is set, then the step installs it with npm install --global (without the token) and deploys with it', async () => {
    // A fake npm: `install` links platformctl into its global prefix's bin, as npm does.
    const npmDir = mkdtempSync(join(tmpdir(), 'deploy-step-npm-'));
    const prefix = join(npmDir, 'prefix');
    const log = join(npmDir, 'npm.log');
    writeFileSync(
      join(npmDir, 'npm'),
      [
        '#!/bin/sh',
        `printf '%s | token=%s\\n' "$*" "\${PLATFORM_TOKEN:-none}" >> '${log}'`,
        'case "$1" in',
        `  install) ${TOOLS.mkdir!} -p '${prefix}/bin' && ${TOOLS.ln!} -s '${CLI}' '${prefix}/bin/platformctl' ;;`,
        `  prefix) echo '${prefix}' ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const platform = await fakePlatform('succeeded');
    try {
      const pkg = 'https://artifacts.example.com/platformctl-0.1.0.tgz';
      const result = await deployStaging('github', { apiUrl: platform.url, path: `${npmDir}:${withoutPlatformctl()}`, env: { PLATFORMCTL_PACKAGE: pkg } });
      assert.equal(result.code, 0, result.output);
      assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [`install --global --no-audit --no-fund ${pkg} | token=none`, 'prefix --global | token=none']);
      assert.match(result.output, /succeeded in 20s/);
      assert.deepEqual(JSON.parse(platform.requests[0]!.body), EXPECTED_BODY);
    } finally {
      await platform.close();
      rmSync(npmDir, { recursive: true, force: true });
    }
  });
});
