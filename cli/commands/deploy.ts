/** `platformctl deploy`: POST /v1/deployments from flags and/or a request file, then optionally --wait. */
import type { Command } from 'commander';
import { api, isObject } from '../client';
import { addWaitOptions, session, waitSettings, type Ctx, type WaitOptions } from '../context';
import { UsageError } from '../errors';
import { followDeployment } from './deployment';
import { imageDigest, integer, readJsonFile, requireFields } from '../options';
import { fields } from '../output';
import type { DeploymentView } from '../types';
import { endedExitCode } from '../wait';

interface DeployOptions extends WaitOptions {
  file?: string;
  project?: string;
  service?: string;
  environment?: string;
  image?: string;
  port?: number;
  replicas?: number;
  host?: string;
  path?: string;
  scanReport?: string;
  requestedBy?: string;
  idempotencyKey?: string;
}

const EXAMPLES = `
Examples:
  # dev: no approval, no scan report needed
  $ platformctl deploy --project payments --service ledger --environment dev \\
      --image registry.example.com/payments/ledger:1.4.2@sha256:<64 hex> --host ledger.payments.example.com

  # staging: attach the Trivy report, then follow the run through approval to the end
  $ trivy image --format json --output trivy-report.json "$IMAGE_REF"
  $ platformctl deploy --project payments --service ledger --environment staging --image "$IMAGE_REF" \\
      --host ledger.payments.example.com --scan-report trivy-report.json --wait --timeout 2h

  # a request body from a file, with the environment given on the command line
  $ platformctl deploy -f request.json --environment staging --json

The Idempotency-Key defaults to one derived from project, service, environment and image digest:
running the same command again returns the same run (also after it ended) instead of starting a
second one. To deploy the same image again after its run ended, pass a new --idempotency-key.`;

export function registerDeploy(program: Command, ctx: Ctx): void {
  const command = program
    .command('deploy')
    .summary('start a deployment; --wait follows it to the end')
    .description('Starts a deployment (POST /v1/deployments) from flags, a request file (-f), or both (flags win).')
    .option('-f, --file <request.json>', 'a request body as POST /v1/deployments takes; flags override its fields')
    .option('--project <name>', 'project (its landing zone must include the environment)')
    .option('--service <name>', 'service name (a DNS label)')
    .option('--environment <name>', 'environment, e.g. dev, staging, prod')
    .option('--image <ref@sha256:digest>', 'image pinned by digest: repo[:tag]@sha256:<64 hex>')
    .option('--port <number>', "container port (default: the project's service.port configuration)", integer(1, 65_535))
    .option('--replicas <number>', 'replicas (default 2; at most the environment allows)', integer(1, 500))
    .option('--host <host>', 'route host, e.g. ledger.payments.example.com')
    .option('--path <path>', 'route path (default /)')
    .option('--scan-report <file>', 'Trivy JSON report of the image (trivy image --format json); required where the environment requires a scan')
    .option('--requested-by <who>', "who asked, for the record (default: the token's subject)")
    .option('--idempotency-key <key>', 'Idempotency-Key header (default: derived from project/service/environment/digest)');
  addWaitOptions(command)
    .addHelpText('after', EXAMPLES)
    .action(async (_options: DeployOptions, self: Command) => {
      ctx.exitCode = await deploy(ctx, self);
    });
}

function requestBody(options: DeployOptions): { body: Record<string, unknown>; key: string } {
  const base = options.file === undefined ? {} : readJsonFile(options.file, '--file');
  if (!isObject(base)) throw new UsageError(`--file ${options.file ?? ''}: must hold a JSON object (a POST /v1/deployments body)`);
  const body: Record<string, unknown> = { ...base };
  const flags = {
    project: options.project,
    service: options.service,
    environment: options.environment,
    image: options.image,
    port: options.port,
    replicas: options.replicas,
    requestedBy: options.requestedBy,
  };
  for (const [field, value] of Object.entries(flags)) if (value !== undefined) body[field] = value;
  const route: Record<string, unknown> = isObject(base.route) ? { ...base.route } : {};
  if (options.host !== undefined) route.host = options.host;
  if (options.path !== undefined) route.path = options.path;
  if (options.host !== undefined || options.path !== undefined || isObject(base.route)) body.route = route;
  if (options.scanReport !== undefined) body.scanReport = readJsonFile(options.scanReport, '--scan-report');

  const text = (field: string): string | undefined => (typeof body[field] === 'string' && body[field] !== '' ? (body[field] as string) : undefined);
  const missing = ['project', 'service', 'environment', 'image'].filter((field) => text(field) === undefined).map((field) => `--${field}`);
  if (!(typeof route.host === 'string' && route.host !== '')) missing.push('--host');
  requireFields(missing, 'give them as flags or in the --file body');
  const image = text('image') ?? '';
  const digest = imageDigest(image);
  if (!digest) {
    throw new UsageError(`--image "${image}" is not pinned by digest`, ['give repo[:tag]@sha256:<64 hex>, e.g. registry.example.com/team/app:1.2.3@sha256:…, the digest your registry gave the pushed image']);
  }
  const key = options.idempotencyKey ?? `platformctl.${text('project')}.${text('service')}.${text('environment')}.${digest.slice('sha256:'.length)}`;
  return { body, key };
}

async function deploy(ctx: Ctx, command: Command): Promise<number> {
  const { options, out, client } = session<DeployOptions>(ctx, command);
  const { body, key } = requestBody(options);
  const response = await client().request('POST', api`/v1/deployments`, { body, headers: { 'idempotency-key': key }, retry: true });
  const started = response.body as DeploymentView;
  out.data(response.body);
  const created = response.status === 202 || started.created === true;
  if (created) {
    out.line(`deployment ${started.deploymentId} started (run ${started.runId ?? '?'})`);
  } else {
    out.line(`deployment ${started.deploymentId}: this request meets an existing run (run ${started.runId ?? '?'}, ${started.status}); nothing new was started`);
    if (started.note) out.line(`note: ${started.note}`);
    if (endedExitCode(started.status) !== undefined) {
      out.line(`that run has ended; to deploy ${String(body.image)} to ${String(body.environment)} again, pass a new --idempotency-key (this one was ${key})`);
    }
  }
  out.lines(fields([['temporal ui', started.links?.temporalUi]]));
  if (!options.wait) return 0;
  return followDeployment(ctx, out, client(), started.deploymentId, waitSettings(options), started.runId);
}
