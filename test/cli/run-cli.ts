/** Runs platformctl as a child process, as a pipeline or a person would: real exit codes, real output. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'cli', 'platformctl.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves once stdout contains `text` (rejects if the CLI exits first or after `timeoutMs`). */
  printed(text: string | RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

/** A minimal environment: only what the CLI needs, so nothing of the test process leaks in. */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env };
}

export function startCli(args: string[], env: Record<string, string>, options: { cwd?: string; command?: string } = {}): RunningCli {
  const command = options.command ?? process.execPath;
  const argv = options.command ? args : [CLI, ...args];
  const child = spawn(command, argv, { cwd: options.cwd ?? join(__dirname, '..', '..'), env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      exited = true;
      for (const listener of listeners) listener();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    stdout: () => stdout,
    done,
    printed: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const matches = (): boolean => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
        const timer = setTimeout(() => finish(new Error(`platformctl did not print ${String(text)} within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        const check = (): void => {
          if (matches()) finish();
          else if (exited) finish(new Error(`platformctl exited before printing ${String(text)}; stdout:\n${stdout}\nstderr:\n${stderr}`));
        };
        function finish(error?: Error): void {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        }
        listeners.add(check);
        check();
      }),
  };
}

export function runCli(args: string[], env: Record<string, string>, options: { cwd?: string; command?: string } = {}): Promise<CliResult> {
  return startCli(args, env, options).done;
}

/** Formats a result for assertion messages. */
export function shown(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** An HTTP server that records every request and answers 500: proves a usage error sent nothing. */
export async function recordingServer(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(500, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'should not be called', status: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
