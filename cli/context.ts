/**
 * What every command's action gets: the global options (--url, --token, --json) resolved against
 * the environment, an output, a client made on first use (so a usage error is found before the
 * token is even looked at), and the shared --wait / --timeout / --interval options.
 */
import { Option, type Command } from 'commander';
import { PlatformClient, resolveSettings } from './client';
import { Output, type Io } from './output';
import { parseDuration } from './options';
import { realClock, type Clock, type WaitSettings } from './wait';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface WaitOptions {
  wait?: boolean;
  timeout: number;
  interval: number;
}

export interface Ctx {
  io: Io;
  clock: Clock;
  version: string;
  /** What the process exits with once the action has returned. */
  exitCode: number;
}

export function createCtx(io: Io, version: string, clock: Clock = realClock): Ctx {
  return { io, clock, version, exitCode: 0 };
}

export interface Session<Options> {
  options: Options & GlobalOptions;
  out: Output;
  client(): PlatformClient;
}

export function session<Options extends object>(ctx: Ctx, command: Command): Session<Options> {
  const options = command.optsWithGlobals<Options & GlobalOptions>();
  let client: PlatformClient | undefined;
  return {
    options,
    out: new Output(ctx.io, options.json === true),
    client: () => (client ??= new PlatformClient(resolveSettings(options, ctx.io.env), { userAgent: `platformctl/${ctx.version}` })),
  };
}

/** --wait, --timeout and --interval; `always` for commands that only wait (no --wait flag). */
export function addWaitOptions(command: Command, always = false): Command {
  if (!always) command.option('--wait', 'follow the run until it ends, printing each change; exit 0 succeeded, 1 failed, 4 timed out');
  const prefix = always ? '' : 'with --wait: ';
  return command
    .addOption(new Option('--timeout <duration>', `${prefix}give up waiting after this long (the run goes on), e.g. 90s, 30m, 2h`).argParser(parseDuration).default(30 * 60_000, '30m'))
    .addOption(new Option('--interval <duration>', `${prefix}how often to read the status`).argParser(parseDuration).default(2_000, '2s'));
}

export function waitSettings(options: WaitOptions): WaitSettings {
  return { timeoutMs: options.timeout, intervalMs: options.interval };
}
