/**
 * moto for the EKS tests: `moto_server` for EKS (and every other signed API call), plus moto's own
 * STS backend served alone on a second port. The second server is needed because moto_server
 * picks the service from the Authorization header's credential scope, and a presigned
 * GetCallerIdentity (what an EKS token is) has no Authorization header: moto_server hands it to
 * S3, its default. Served alone, moto's STS app answers it at `/` like real STS.
 *
 * Both run from the project's venv (.tools/venv) through moto_server's own entry point, with a
 * watchdog that ends them when this process goes away, so no run leaves a server behind.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, spawnManaged, stopProcess, waitForPort } from '../../scripts/lib/processes';
import { projectRoot } from '../../scripts/lib/tools';

/** What moto's GetCallerIdentity answers for any presigned request, whatever key signed it. */
export const MOTO_DEFAULT_CALLER_ARN = 'arn:aws:sts::123456789012:user/moto';
export const MOTO_ACCOUNT_ID = '123456789012';

/** Dummy credentials: moto requires signed requests but does not check the keys. */
export const MOTO_CREDENTIALS = { accessKeyId: 'AKIAEKSTESTKEY000001', secretAccessKey: 'eks-test-secret-not-a-real-key' };

export interface EksMoto {
  /** moto_server, e.g. http://127.0.0.1:PORT (EKS, IAM, ...). */
  endpoint: string;
  /** moto's STS alone, e.g. http://127.0.0.1:PORT: where EKS tokens point. */
  stsEndpoint: string;
  /** host:port of stsEndpoint, as it appears in a token's URL. */
  stsHost: string;
  stop(): Promise<void>;
}

/**
 * Python run before each server: exit as soon as stdin reaches EOF, i.e. when this Node process is
 * gone, however it died (a SIGKILLed or SIGPIPEd test runner never runs exit hooks).
 */
const EXIT_WITH_PARENT = [
  'import os, sys, threading',
  'def _watch_parent():',
  '    sys.stdin.read()',
  '    os._exit(0)',
  'threading.Thread(target=_watch_parent, daemon=True).start()',
];

/** moto_server's own entry point (what .tools/venv/bin/moto_server runs), with the watchdog. */
const MOTO_SERVER = [...EXIT_WITH_PARENT, 'from moto.server import main', 'main(sys.argv[1:])'].join('\n');

/** moto's STS backend app alone, served the way moto_server serves each backend. */
const STS_ONLY_APP = [
  ...EXIT_WITH_PARENT,
  'from moto.moto_server.werkzeug_app import create_backend_app',
  'from werkzeug.serving import run_simple',
  "run_simple('127.0.0.1', int(sys.argv[1]), create_backend_app('sts'), threaded=True)",
].join('\n');

function venvBin(name: string): string {
  return join(projectRoot, '.tools', 'venv', 'bin', name);
}

async function startOne(command: string, args: string[], port: number, what: string): Promise<ChildProcess> {
  // moto logs each request line, presigned URLs included: keep only the start-up lines, for errors.
  const child = spawnManaged(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const lines: string[] = [];
  let collecting = true;
  const collect = (chunk: Buffer): void => {
    if (collecting) lines.push(...chunk.toString().split('\n').filter((l) => l.trim()).slice(0, 20));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${what} exited during start (code ${code}, signal ${signal}):\n${lines.join('\n')}`)));
  });
  try {
    await Promise.race([waitForPort(port, 30_000), exited]);
  } catch (error) {
    await stopProcess(child, 2_000);
    throw error;
  }
  exited.catch(() => undefined);
  collecting = false;
  return child;
}

export async function startEksMoto(): Promise<EksMoto> {
  const port = await freePort();
  let stsPort = await freePort();
  while (stsPort === port) stsPort = await freePort();
  const moto = await startOne(venvBin('python'), ['-c', MOTO_SERVER, '-H', '127.0.0.1', '-p', String(port)], port, 'moto_server');
  let sts: ChildProcess;
  try {
    sts = await startOne(venvBin('python'), ['-c', STS_ONLY_APP, String(stsPort)], stsPort, "moto's STS app");
  } catch (error) {
    await stopProcess(moto, 5_000);
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stsEndpoint: `http://127.0.0.1:${stsPort}`,
    stsHost: `127.0.0.1:${stsPort}`,
    stop: async () => {
      await Promise.all([stopProcess(moto, 5_000), stopProcess(sts, 5_000)]);
    },
  };
}
