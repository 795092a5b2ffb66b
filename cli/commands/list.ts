/** `list` (GET /v1/deployments) and `history` (GET /v1/deployments/{id}/runs): pages, or --all of them. */
import { Option, type Command } from 'commander';
import { api, isObject, type PlatformClient, type QueryValue } from '../client';
import { session, type Ctx } from '../context';
import { ConnectionError } from '../errors';
import { integer } from '../options';
import { deploymentTable, runTable, type Output } from '../output';
import { DEPLOY_STAGES, RUN_STATUSES, type DeploymentSummary, type Page, type RunSummary } from '../types';

interface PageOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface ListOptions extends PageOptions {
  project?: string;
  service?: string;
  environment?: string;
  status?: string;
  stage?: string;
  change?: string;
}

function addPageOptions(command: Command): Command {
  return command
    .option('--limit <n>', 'items per page (1-100; the API defaults to 20)', integer(1, 100))
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--all', 'every page, following the cursor to the end');
}

/** Reads one page, or every page from `cursor` on (--json prints each page as it comes). */
async function pages<Item>(client: PlatformClient, out: Output, path: string, query: Record<string, QueryValue>, options: PageOptions): Promise<{ items: Item[]; nextCursor?: string }> {
  const items: Item[] = [];
  const seen = new Set<string>();
  let cursor = options.cursor;
  for (;;) {
    const response = await client.get(path, { query: { ...query, limit: options.limit, cursor } });
    if (!isObject(response.body) || !Array.isArray(response.body.items)) {
      throw new ConnectionError(`GET ${path} answered something that is not a page ({"items": [...]}): is ${client.baseUrl} the platform's API?`);
    }
    const page = response.body as unknown as Page<Item>;
    out.data(response.body);
    items.push(...page.items);
    const next = page.nextCursor;
    if (!options.all || !next || seen.has(next)) return { items, ...(next ? { nextCursor: next } : {}) };
    seen.add(next);
    cursor = next;
  }
}

export function registerList(program: Command, ctx: Ctx): void {
  addPageOptions(
    program
      .command('list')
      .summary('deployments, newest first, filtered by project, service, environment, status, stage or change')
      .description('Lists deployment runs (GET /v1/deployments), newest first. A token sees only its projects.')
      .option('--project <name>', 'only this project')
      .option('--service <name>', 'only this service')
      .option('--environment <name>', 'only this environment')
      .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
      .addOption(new Option('--stage <stage>', 'only runs at this stage').choices(DEPLOY_STAGES))
      .option('--change <number>', 'only the run of this change, e.g. CHG0030001'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ platformctl list --project payments --environment prod\n  $ platformctl list --status awaiting_approval --all\n  $ platformctl list --change CHG0030001 --json',
    )
    .action(async (_options: ListOptions, self: Command) => {
      const { options, out, client } = session<ListOptions>(ctx, self);
      const query = {
        project: options.project,
        service: options.service,
        environment: options.environment,
        status: options.status,
        stage: options.stage,
        changeNumber: options.change,
      };
      const result = await pages<DeploymentSummary>(client(), out, api`/v1/deployments`, query, options);
      out.lines(result.items.length > 0 ? deploymentTable(result.items) : ['no deployments match']);
      if (result.nextCursor) out.line(`more: add --cursor ${result.nextCursor} (or --all)`);
    });

  addPageOptions(
    program
      .command('history')
      .summary("a deployment's runs, newest first")
      .description('Lists every run of one deployment id (GET /v1/deployments/{id}/runs): the same image deployed again after a run ended is a new run of the same id.')
      .argument('<deploymentId>', 'e.g. deploy.payments.ledger.staging.0123456789abcdef'),
  )
    .addHelpText('after', '\nExamples:\n  $ platformctl history deploy.payments.ledger.staging.0123456789abcdef --all')
    .action(async (id: string, _options: PageOptions, self: Command) => {
      const { options, out, client } = session<PageOptions>(ctx, self);
      const result = await pages<RunSummary>(client(), out, api`/v1/deployments/${id}/runs`, {}, options);
      out.lines(result.items.length > 0 ? runTable(result.items) : [`no runs of ${id}`]);
      if (result.nextCursor) out.line(`more: add --cursor ${result.nextCursor} (or --all)`);
    });
}
