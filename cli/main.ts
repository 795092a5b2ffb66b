/**
 * platformctl's entry point: parses the command line, runs the command, and turns every way it
 * can end into an exit code (errors.ts). Called by platformctl.mjs; tests may call `main` directly
 * with their own I/O.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { createCtx } from './context';
import { CliError, ExitCode, UsageError } from './errors';
import { Output, type Io } from './output';
import { buildProgram } from './program';
import type { Clock } from './wait';

/** The version in cli/package.json (the CLI is packed from there). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/** Runs one command line (without `node platformctl`) and returns the exit code. */
export async function main(argv: string[], io: Io = processIo, clock?: Clock): Promise<number> {
  const ctx = createCtx(io, cliVersion(), clock);
  const program = buildProgram(ctx);
  let commandPath = 'platformctl';
  program.hook('preAction', (_program, action) => {
    const names: string[] = [];
    for (let command: typeof action | null = action; command; command = command.parent) names.unshift(command.name());
    commandPath = names.join(' ');
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; everything else commander reports (unknown option, missing
      // argument, bad value) is a usage error, already printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const out = new Output(io, false);
    if (error instanceof UsageError) {
      out.error(new UsageError(error.message, [...error.details, `see: ${commandPath} --help`]));
      return error.exitCode;
    }
    if (error instanceof CliError) {
      out.error(error);
      return error.exitCode;
    }
    io.stderr(`platformctl: internal error (a bug in platformctl): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 70;
  }
}
