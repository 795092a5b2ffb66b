/** The command tree: global options, then each command group from commands/. */
import { Command } from 'commander';
import { registerConfig } from './commands/config';
import { registerDeploy } from './commands/deploy';
import { registerDeployment } from './commands/deployment';
import { registerLandingZones } from './commands/landing-zones';
import { registerList } from './commands/list';
import type { Ctx } from './context';
import { DEFAULT_URL } from './client';

const OVERVIEW = `
Environment:
  PLATFORM_URL     the platform's API (default ${DEFAULT_URL}); --url overrides it
  PLATFORM_TOKEN   an API token (a project's CI token, or a person's); --token overrides it

Exit codes:
  0  done; with --wait or wait: the run succeeded
  1  with --wait or wait: the run ended failed, rejected, expired, rolled_back or cancelled
  2  usage error (nothing was sent), or the platform refused the request (4xx)
  3  the platform could not be reached, or failed (5xx)
  4  with --wait or wait: --timeout passed before the run ended (it goes on)

Run platformctl <command> --help for a command's options and examples.`;

export function buildProgram(ctx: Ctx): Command {
  const program = new Command('platformctl');
  // Set before the commands are added: subcommands inherit these settings.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout(text),
      writeErr: (text) => ctx.io.stderr(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'platformctl: ')),
    })
    .showHelpAfterError('(add --help for usage and examples)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false });
  program
    .description("The deployment platform's command-line client: deploy and follow deployments, landing zones, configuration.")
    .version(ctx.version, '-V, --version')
    .option('--url <url>', `the platform's API (default: $PLATFORM_URL or ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (default: $PLATFORM_TOKEN; prefer the variable: arguments are visible to other processes)')
    .option('--json', 'print the API answers as JSON, one per line, instead of text')
    .addHelpText('after', OVERVIEW);

  registerDeploy(program, ctx);
  registerDeployment(program, ctx);
  registerList(program, ctx);
  registerLandingZones(program, ctx);
  registerConfig(program, ctx);
  return program;
}
