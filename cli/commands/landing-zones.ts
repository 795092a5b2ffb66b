/**
 * `platformctl lz create|status|update|delete`: a project's landing zone. With --wait, creation
 * follows the zone's own run (the top-level status of GET /v1/landing-zones/{project}); update and
 * delete follow `lastOperation`, the run they started.
 */
import type { Command } from 'commander';
import { api, isObject, type PlatformClient } from '../client';
import { addWaitOptions, session, waitSettings, type Ctx, type WaitOptions } from '../context';
import { CliError, ExitCode, UsageError } from '../errors';
import { followRun } from '../follow';
import { commaList, integer, readJsonFile, repeatable, requireFields } from '../options';
import { fields, landingZoneLines, type Output } from '../output';
import type { LandingZoneOperation, LandingZoneStarted, LandingZoneView } from '../types';
import type { WaitSettings } from '../wait';

interface QuotaOptions {
  quotaRequestsCpu?: string;
  quotaRequestsMemory?: string;
  quotaLimitsCpu?: string;
  quotaLimitsMemory?: string;
  quotaPods?: number;
}

interface CreateOptions extends QuotaOptions, WaitOptions {
  file?: string;
  project?: string;
  tenant?: string;
  class?: string;
  ownerEmail?: string[];
  ownerGroup?: string;
  environments?: string[];
}

interface UpdateOptions extends QuotaOptions, WaitOptions {
  addEnvironments?: string[];
}

interface DeleteOptions extends WaitOptions {
  force?: boolean;
  reason?: string;
}

function addQuotaOptions(command: Command): Command {
  return command
    .option('--quota-requests-cpu <quantity>', 'namespace quota: requests.cpu, e.g. 4')
    .option('--quota-requests-memory <quantity>', 'namespace quota: requests.memory, e.g. 8Gi')
    .option('--quota-limits-cpu <quantity>', 'namespace quota: limits.cpu')
    .option('--quota-limits-memory <quantity>', 'namespace quota: limits.memory')
    .option('--quota-pods <n>', 'namespace quota: pods', integer(1, 10_000));
}

function quotaFrom(options: QuotaOptions): Record<string, string | number> {
  const quota = {
    requestsCpu: options.quotaRequestsCpu,
    requestsMemory: options.quotaRequestsMemory,
    limitsCpu: options.quotaLimitsCpu,
    limitsMemory: options.quotaLimitsMemory,
    pods: options.quotaPods,
  };
  return Object.fromEntries(Object.entries(quota).filter((entry): entry is [string, string | number] => entry[1] !== undefined));
}

const PROJECT_ARGUMENT = ['<project>', 'the project whose landing zone it is'] as const;

/** Follows the zone's creation run, or (with `operationRunId`) the update or decommission run it started. */
function followLandingZone(ctx: Ctx, out: Output, client: PlatformClient, project: string, settings: WaitSettings, operation?: { runId: string; name: string }): Promise<number> {
  return followRun<LandingZoneView | LandingZoneOperation>(out, ctx.clock, settings, {
    label: operation ? `${operation.name} of landing zone ${project}` : `landing zone ${project}`,
    resumeHint: `See it with: platformctl lz status ${project}`,
    read: async () => {
      const response = await client.get(api`/v1/landing-zones/${project}`);
      const zone = response.body as LandingZoneView;
      if (!operation) return { raw: response.body, view: zone };
      const last = zone.lastOperation;
      if (last && last.runId !== operation.runId) {
        throw new CliError(`another operation (run ${last.runId}) of the landing zone of ${project} has started since; the ${operation.name} this command started (run ${operation.runId}) has ended`, ExitCode.unavailable, [
          'its outcome is in the Temporal UI',
        ]);
      }
      return { raw: response.body, view: last ?? { runId: operation.runId, status: 'running', detailsUnavailable: 'the run is not visible yet' } };
    },
  });
}

function startedLines(what: string, started: LandingZoneStarted): string[] {
  return [
    `${what} started (run ${started.runId ?? '?'})${started.approvalRequired ? '; it waits for an approved change first' : ''}`,
    ...(started.changes ?? []).map((change) => `  - ${change}`),
    ...fields([['temporal ui', started.links?.temporalUi]]),
  ];
}

const CREATE_EXAMPLES = `
Examples:
  $ platformctl lz create --project demo --tenant retail --class node-web \\
      --owner-email owner@example.com --owner-group team-demo --environments dev,staging --wait
  $ platformctl lz create -f landing-zone.json --quota-pods 40`;

export function registerLandingZones(program: Command, ctx: Ctx): void {
  const lz = program
    .command('lz')
    .alias('landing-zone')
    .summary("a project's landing zone: create, status, update, delete")
    .description("A project's landing zone: namespaces, image repository, configuration, source repository and CI token.");

  addWaitOptions(
    addQuotaOptions(
      lz
        .command('create')
        .summary('create a landing zone (platform-admin)')
        .description('Creates a landing zone for a new project (POST /v1/landing-zones) from flags, a body file (-f), or both (flags win).')
        .option('-f, --file <body.json>', 'a body as POST /v1/landing-zones takes; flags override its fields')
        .option('--project <name>', 'the new project (a DNS label)')
        .option('--tenant <name>', 'its tenant')
        .option('--class <class>', 'project class: java, dotnet, node-web, python-backend, mobile-backend')
        .option('--owner-email <email>', 'an owner (repeat for more)', repeatable)
        .option('--owner-group <group>', "the owners' group, as the identity provider spells it")
        .option('--environments <list>', 'environments, comma-separated, in promotion order, e.g. dev,staging', commaList),
    ),
  )
    .addHelpText('after', CREATE_EXAMPLES)
    .action(async (_options: CreateOptions, self: Command) => {
      const { options, out, client } = session<CreateOptions>(ctx, self);
      const base = options.file === undefined ? {} : readJsonFile(options.file, '--file');
      if (!isObject(base)) throw new UsageError(`--file ${options.file ?? ''}: must hold a JSON object (a POST /v1/landing-zones body)`);
      const body: Record<string, unknown> = { ...base };
      for (const [field, value] of Object.entries({ project: options.project, tenant: options.tenant, class: options.class, environments: options.environments })) {
        if (value !== undefined) body[field] = value;
      }
      const owners: Record<string, unknown> = isObject(base.owners) ? { ...base.owners } : {};
      if (options.ownerEmail) owners.emails = options.ownerEmail;
      if (options.ownerGroup) owners.group = options.ownerGroup;
      body.owners = owners;
      const quota = { ...(isObject(base.quota) ? base.quota : {}), ...quotaFrom(options) };
      if (Object.keys(quota).length > 0) body.quota = quota;
      const missing = [
        ...['project', 'tenant', 'class'].filter((field) => typeof body[field] !== 'string' || body[field] === '').map((field) => `--${field}`),
        ...(Array.isArray(owners.emails) && owners.emails.length > 0 ? [] : ['--owner-email']),
        ...(typeof owners.group === 'string' && owners.group !== '' ? [] : ['--owner-group']),
        ...(Array.isArray(body.environments) && body.environments.length > 0 ? [] : ['--environments']),
      ];
      requireFields(missing, 'give them as flags or in the --file body');
      const project = body.project as string;

      const response = await client().request('POST', api`/v1/landing-zones`, { body });
      out.data(response.body);
      out.lines(startedLines(`landing zone ${project}`, response.body as LandingZoneStarted));
      if (options.wait) ctx.exitCode = await followLandingZone(ctx, out, client(), project, waitSettings(options));
    });

  lz.command('status')
    .summary('status, environments, resources and last operation of a landing zone')
    .description('Shows a landing zone (GET /v1/landing-zones/{project}): its creation run, state, environments, resources, and its latest update or decommission.')
    .argument(...PROJECT_ARGUMENT)
    .addHelpText('after', '\nExamples:\n  $ platformctl lz status payments\n  $ platformctl lz status payments --json | jq .lastOperation')
    .action(async (project: string, _options: object, self: Command) => {
      const { out, client } = session(ctx, self);
      const response = await client().get(api`/v1/landing-zones/${project}`);
      out.data(response.body);
      out.lines(landingZoneLines(response.body as LandingZoneView));
    });

  addWaitOptions(
    addQuotaOptions(
      lz
        .command('update')
        .summary('add environments or change the quota (only the difference is applied)')
        .description('Updates a landing zone (PATCH /v1/landing-zones/{project}); nothing is removed. Environments that ask for approval wait for an approved change.')
        .argument(...PROJECT_ARGUMENT)
        .option('--add-environments <list>', 'environments to add, comma-separated, e.g. prod', commaList),
    ),
  )
    .addHelpText('after', '\nExamples:\n  $ platformctl lz update demo --add-environments prod --wait --timeout 72h\n  $ platformctl lz update demo --quota-pods 40 --quota-limits-memory 16Gi')
    .action(async (project: string, _options: UpdateOptions, self: Command) => {
      const { options, out, client } = session<UpdateOptions>(ctx, self);
      const quota = quotaFrom(options);
      const body = { ...(options.addEnvironments ? { addEnvironments: options.addEnvironments } : {}), ...(Object.keys(quota).length > 0 ? { quota } : {}) };
      if (Object.keys(body).length === 0) throw new UsageError('nothing to update: give --add-environments and/or a --quota-* option');
      const response = await client().request('PATCH', api`/v1/landing-zones/${project}`, { body });
      out.data(response.body);
      const started = response.body as LandingZoneStarted;
      if (started.changed === false || !started.runId) {
        out.line(started.message ?? `the landing zone of ${project} already looks like this; nothing was started`);
        return;
      }
      out.lines(startedLines(`update of landing zone ${project}`, started));
      if (options.wait) ctx.exitCode = await followLandingZone(ctx, out, client(), project, waitSettings(options), { runId: started.runId, name: 'update' });
    });

  addWaitOptions(
    lz
      .command('delete')
      .alias('decommission')
      .summary('decommission a landing zone')
      .description(
        'Decommissions a landing zone (DELETE /v1/landing-zones/{project}): refused while deployment runs are in flight, and while services are deployed unless --force. The repository is archived, the CI token revoked.',
      )
      .argument(...PROJECT_ARGUMENT)
      .option('--force', 'also remove deployed services and an image repository that holds images')
      .option('--reason <text>', 'why, for the change request and the record'),
  )
    .addHelpText('after', '\nExamples:\n  $ platformctl lz delete demo --reason "project ended" --wait\n  $ platformctl lz delete demo --force --reason "replaced by demo2"')
    .action(async (project: string, _options: DeleteOptions, self: Command) => {
      const { options, out, client } = session<DeleteOptions>(ctx, self);
      const response = await client().request('DELETE', api`/v1/landing-zones/${project}`, {
        query: { force: options.force ? 'true' : undefined, reason: options.reason },
      });
      out.data(response.body);
      const started = response.body as LandingZoneStarted;
      out.lines(startedLines(`decommission of landing zone ${project}${options.force ? ' (forced)' : ''}`, started));
      if (options.wait && started.runId) {
        ctx.exitCode = await followLandingZone(ctx, out, client(), project, waitSettings(options), { runId: started.runId, name: 'decommission' });
      }
    });
}
