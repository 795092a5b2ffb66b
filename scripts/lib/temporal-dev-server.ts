import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { freePort, spawnManaged, stopProcess, waitForPort } from './processes';
import { temporalCliPath } from './tools';

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; the UI is disabled when null. */
  uiPort?: number | null;
  /** Where the UI sends payloads to be decoded for display (the platform API's `/codec`). */
  uiCodecEndpoint?: string;
  /** SQLite file that keeps runs across restarts; in memory when omitted. */
  dbFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Where the server's own output goes; discarded when omitted. */
  onOutput?: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * Let the parent exit while the server runs (it is still killed on exit). For a test file that
   * owns its server: otherwise the server's pipes keep the file's process alive until the test
   * runner kills it, and then no cleanup runs.
   */
  unref?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with the platform's search attributes registered. */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  if (options.port !== undefined) return startOn(options.port, options);
  // A free port can be taken by another process before the server binds it (several dev servers
  // starting at once pick ports of their own): such a start is tried again on another free port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/address already in use/i.test(error.message)) throw error;
    }
  }
}

async function startOn(port: number, options: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--log-level', options.logLevel ?? 'warn');
  if (options.uiPort === null || options.uiPort === undefined) {
    args.push('--headless');
  } else {
    args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  }
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES)) {
    args.push('--search-attribute', `${name}=${type}`);
  }

  const child = spawnManaged(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  // The CLI checks that the port is free, then names it in its banner: until then an answer on the
  // port may come from whoever else holds it (the CLI then exits with "address already in use").
  const banner = new RegExp(`^Temporal Server:\\s+\\S+:${port}\\s*$`);
  let announce: () => void = () => {};
  const announced = new Promise<void>((resolve) => (announce = resolve));
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      if (banner.test(line.trim())) announce();
      output.push(line);
      if (output.length > 50) output.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exitedEarly = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`temporal server exited during start (code ${code}, signal ${signal}):\n${output.join('\n')}`)),
    );
  });
  exitedEarly.catch(() => undefined);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`temporal server did not announce port ${port} within ${startTimeoutMs} ms:\n${output.join('\n')}`)), startTimeoutMs);
  });
  try {
    await Promise.race([Promise.all([announced, waitForPort(port, startTimeoutMs)]), exitedEarly, tooSlow]);
    if (options.uiPort) await Promise.race([waitForPort(options.uiPort, 30_000), exitedEarly]);
  } catch (error) {
    await stopProcess(child);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (options.unref) {
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  }

  return {
    address: `127.0.0.1:${port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: child,
    stop: () => stopProcess(child),
  };
}
