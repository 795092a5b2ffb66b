/**
 * `platformctl config get|set|delete`: the configuration hierarchy. A scope is chosen with flags:
 * `--global`, `--tenant T`, or `--tenant T --project P`. Secrets are references (`--secret-ref`),
 * never values: the platform refuses a value under a key that sounds like a secret.
 */
import type { Command } from 'commander';
import { api } from '../client';
import { session, type Ctx } from '../context';
import { UsageError } from '../errors';
import { configTable, fields } from '../output';
import type { ConfigEntry, ResolvedConfig } from '../types';

interface ScopeOptions {
  global?: boolean;
  tenant?: string;
  project?: string;
  environment?: string;
}

interface SetOptions extends ScopeOptions {
  secretRef?: string;
}

function addScopeOptions(command: Command): Command {
  return command
    .option('--global', 'the global scope (platform-admin)')
    .option('--tenant <tenant>', "a tenant's scope (tenant-admin:<tenant> or platform-admin)")
    .option('--project <project>', "with --tenant: a project's scope (project-owner:<project>, the tenant's admin or platform-admin)")
    .option('--environment <name>', "an environment's own entry (default: the entry for all environments)");
}

/** The API path of an entry in the scope the flags name; a usage error unless exactly one scope is named. */
function entryPath(options: ScopeOptions, key: string): { path: string; scope: string } {
  if (options.global && (options.tenant !== undefined || options.project !== undefined)) throw new UsageError('--global and --tenant/--project name different scopes: give one');
  if (options.project !== undefined && options.tenant === undefined) throw new UsageError('--project needs --tenant (the tenant the project belongs to)');
  if (options.global) return { path: api`/v1/config/global/entries/${key}`, scope: 'global' };
  if (options.tenant !== undefined && options.project !== undefined) {
    return { path: api`/v1/config/tenants/${options.tenant}/projects/${options.project}/entries/${key}`, scope: `project ${options.tenant}/${options.project}` };
  }
  if (options.tenant !== undefined) return { path: api`/v1/config/tenants/${options.tenant}/entries/${key}`, scope: `tenant ${options.tenant}` };
  throw new UsageError('which scope? give --global, --tenant <tenant>, or --tenant <tenant> --project <project>');
}

const SET_EXAMPLES = `
Examples:
  $ platformctl config set LOG_LEVEL info --global
  $ platformctl config set feature.checkout true --tenant retail --project shop --environment staging
  $ platformctl config set db.password --secret-ref vault://kv/shop/db#password --tenant retail --project shop --environment prod`;

export function registerConfig(program: Command, ctx: Ctx): void {
  const config = program.command('config').summary("the configuration hierarchy: a project's resolved entries; set and delete entries").description('Configuration entries at global, tenant and project scope; a project sees project over tenant over global.');

  config
    .command('get')
    .summary("a project's resolved configuration, with the scope each entry comes from")
    .description("Shows a project's resolved configuration (GET /v1/config/{tenant}/{project}): each entry with the scope (and environment) it came from; secrets as references only.")
    .argument('<tenant>', "the project's tenant")
    .argument('<project>', 'the project')
    .option('--environment <name>', "resolve for this environment (its own entries over the all-environment ones)")
    .addHelpText('after', '\nExamples:\n  $ platformctl config get retail payments\n  $ platformctl config get retail payments --environment prod --json')
    .action(async (tenant: string, project: string, _options: { environment?: string }, self: Command) => {
      const { options, out, client } = session<{ environment?: string }>(ctx, self);
      const response = await client().get(api`/v1/config/${tenant}/${project}`, { query: { environment: options.environment } });
      out.data(response.body);
      const resolved = response.body as ResolvedConfig;
      out.line(`configuration of ${resolved.tenant}/${resolved.project}${resolved.environment ? ` in ${resolved.environment}` : ' (all environments)'}`);
      out.lines(resolved.entries.length > 0 ? configTable(resolved.entries) : ['no entries']);
    });

  addScopeOptions(
    config
      .command('set')
      .summary('write an entry: a value, or a reference to a secret')
      .description('Writes a configuration entry (PUT /v1/config/…/entries/{key}) in the scope the flags name. Give a value, or --secret-ref for a secret (the platform stores references only).')
      .argument('<key>', 'the key, e.g. LOG_LEVEL or db.password')
      .argument('[value]', 'the value (or give --secret-ref)')
      .option('--secret-ref <ref>', 'a reference to a secret, e.g. vault://kv/app/db#password, instead of a value'),
  )
    .addHelpText('after', SET_EXAMPLES)
    .action(async (key: string, value: string | undefined, _options: SetOptions, self: Command) => {
      const { options, out, client } = session<SetOptions>(ctx, self);
      if ((value === undefined) === (options.secretRef === undefined)) throw new UsageError('give a value or --secret-ref <ref>, not both and not neither');
      const { path, scope } = entryPath(options, key);
      const body = {
        ...(options.secretRef !== undefined ? { secretRef: options.secretRef } : { value }),
        ...(options.environment !== undefined ? { environment: options.environment } : {}),
      };
      const response = await client().request('PUT', path, { body });
      out.data(response.body);
      const entry = response.body as ConfigEntry;
      out.line(`${response.status === 201 ? 'created' : 'updated'} ${scope} entry ${entry.key}${entry.environment ? ` for ${entry.environment}` : ' for all environments'}`);
      out.lines(fields([['value', entry.secretRef !== undefined ? `secret ${entry.secretRef}` : entry.value]]).map((line) => `  ${line}`));
    });

  addScopeOptions(
    config
      .command('delete')
      .alias('unset')
      .summary('delete an entry')
      .description('Deletes a configuration entry (DELETE /v1/config/…/entries/{key}) in the scope the flags name.')
      .argument('<key>', 'the key'),
  )
    .addHelpText('after', '\nExamples:\n  $ platformctl config delete LOG_LEVEL --global\n  $ platformctl config delete db.password --tenant retail --project shop --environment prod')
    .action(async (key: string, _options: ScopeOptions, self: Command) => {
      const { options, out, client } = session<ScopeOptions>(ctx, self);
      const { path, scope } = entryPath(options, key);
      await client().request('DELETE', path, { query: { environment: options.environment } });
      out.data({ deleted: true, key, scope, environment: options.environment ?? null });
      out.line(`deleted ${scope} entry ${key}${options.environment ? ` for ${options.environment}` : ' for all environments'}`);
    });
}
