/** One deployment by id: `status`, `cancel`, `wait`, and the --wait loop `deploy` shares. */
import type { Command } from 'commander';
import { api, type PlatformClient } from '../client';
import { addWaitOptions, session, waitSettings, type Ctx, type WaitOptions } from '../context';
import { CliError, ExitCode } from '../errors';
import { followRun } from '../follow';
import { deploymentLines, fields, type Output } from '../output';
import type { DeploymentView } from '../types';
import type { WaitSettings } from '../wait';

const ID_ARGUMENT = ['<deploymentId>', 'e.g. deploy.payments.ledger.staging.0123456789abcdef (printed by deploy, shown by list)'] as const;

/**
 * Follows a deployment until it ends. With `runId` (deploy --wait), only that run: should a newer
 * run of the same id appear, ours has ended and the CLI says so rather than report the other one.
 */
export function followDeployment(ctx: Ctx, out: Output, client: PlatformClient, id: string, settings: WaitSettings, runId?: string): Promise<number> {
  return followRun<DeploymentView>(out, ctx.clock, settings, {
    label: `deployment ${id}`,
    resumeHint: `Follow it with: platformctl wait ${id}`,
    read: async () => {
      const response = await client.get(api`/v1/deployments/${id}`);
      const view = response.body as DeploymentView;
      if (runId && view.runId && view.runId !== runId) {
        throw new CliError(`deployment ${id} has a newer run (${view.runId}); the run this command started (${runId}) has ended`, ExitCode.unavailable, [
          `see its outcome with: platformctl history ${id}`,
        ]);
      }
      return { raw: response.body, view };
    },
  });
}

export function registerDeployment(program: Command, ctx: Ctx): void {
  program
    .command('status')
    .summary("a deployment's status, stage, steps, approval and error")
    .description('Shows the latest run of a deployment (GET /v1/deployments/{id}), also after it ended.')
    .argument(...ID_ARGUMENT)
    .addHelpText('after', '\nExamples:\n  $ platformctl status deploy.payments.ledger.staging.0123456789abcdef\n  $ platformctl status deploy.payments.ledger.staging.0123456789abcdef --json | jq .approval')
    .action(async (id: string, _options: object, self: Command) => {
      const { out, client } = session(ctx, self);
      const response = await client().get(api`/v1/deployments/${id}`);
      out.data(response.body);
      out.lines(deploymentLines(response.body as DeploymentView));
    });

  program
    .command('cancel')
    .summary('cancel a running deployment (what was applied is undone)')
    .description('Cancels the latest run of a deployment (POST /v1/deployments/{id}/cancel). The run undoes what it applied and closes its change; follow that with platformctl wait (which exits 1: the run ends cancelled).')
    .argument(...ID_ARGUMENT)
    .addHelpText('after', '\nExamples:\n  $ platformctl cancel deploy.payments.ledger.staging.0123456789abcdef\n  $ platformctl wait deploy.payments.ledger.staging.0123456789abcdef   # until the undo has finished')
    .action(async (id: string, _options: object, self: Command) => {
      const { out, client } = session(ctx, self);
      const response = await client().request('POST', api`/v1/deployments/${id}/cancel`);
      const answer = response.body as { deploymentId?: string; runId?: string; status?: string; links?: { temporalUi?: string } };
      out.data(response.body);
      out.line(`deployment ${answer.deploymentId ?? id}: ${answer.status ?? 'cancelling'} (run ${answer.runId ?? '?'}); what it applied is being undone`);
      out.lines(fields([['temporal ui', answer.links?.temporalUi]]));
    });

  addWaitOptions(
    program
      .command('wait')
      .summary('follow a deployment until it ends (exit 0 succeeded, 1 failed, 4 timed out)')
      .description('Follows the latest run of a deployment, printing each change of status or stage, the detail of each step as it ends, the change and approval deadline when it waits for approval, and refused approval decisions.')
      .argument(...ID_ARGUMENT),
    true,
  )
    .addHelpText('after', '\nExamples:\n  $ platformctl wait deploy.payments.ledger.staging.0123456789abcdef --timeout 2h --interval 10s')
    .action(async (id: string, _options: WaitOptions, self: Command) => {
      const { options, out, client } = session<WaitOptions>(ctx, self);
      ctx.exitCode = await followDeployment(ctx, out, client(), id, waitSettings(options));
    });
}
