/**
 * A real moto_server (the AWS emulator, installed by `bash scripts/setup.sh --with-aws`) for the
 * ECR adapter tests: one per test file, on a free loopback port, stopped in `stop()` and, as a
 * last resort, when the test process goes away. Credentials are dummies set on each client,
 * never in process.env, so nothing here can reach a real AWS account. Also: an ECR client with
 * recorded responses, for what moto does not model.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { createEcrClient, type EcrClientOptions } from '../../activities/adapters/ecr/client';
import { freePort, spawnManaged, stopProcess } from '../../scripts/lib/processes';
import { projectRoot } from '../../scripts/lib/tools';

/** moto's default account; every ECR host in the tests uses it. */
export const MOTO_ACCOUNT = '123456789012';
/** AWS's documented example key pair: well-formed, and valid nowhere. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

export interface MotoServer {
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset), so each test starts from an empty account. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  ecrClient(options?: Partial<EcrClientOptions>): ECRClient;
  /** Queues DescribeImageScanFindings responses moto returns instead of its default finding. */
  setEcrScanFindings(region: string, results: unknown[]): Promise<void>;
}

function venvPython(): string {
  const path = join(projectRoot, '.tools', 'venv', 'bin', 'python');
  try {
    accessSync(join(projectRoot, '.tools', 'venv', 'bin', 'moto_server'), constants.X_OK);
  } catch {
    throw new Error(`moto_server not found in ${join(projectRoot, '.tools', 'venv', 'bin')}; run 'bash scripts/setup.sh --with-aws'`);
  }
  return path;
}

/**
 * moto_server's own entry point (what .tools/venv/bin/moto_server runs) behind a watchdog that
 * exits when stdin reaches EOF, i.e. when this Node process is gone however it died: a test
 * runner that SIGTERMs or SIGKILLs a file's process never runs its exit hooks.
 */
const MOTO_SERVER_WITH_WATCHDOG = [
  'import os, sys, threading',
  'def _watch_parent():',
  '    sys.stdin.read()',
  '    os._exit(0)',
  'threading.Thread(target=_watch_parent, daemon=True).start()',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

async function post(url: string, body?: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status} ${await response.text()}`);
}

class PortTaken extends Error {}

/** One start on one port; PortTaken when someone else bound it between freePort() and moto. */
async function startOn(port: number, timeoutMs: number): Promise<MotoServer> {
  const child = spawnManaged(venvPython(), ['-c', MOTO_SERVER_WITH_WATCHDOG, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // Start-up lines only, for errors: afterwards moto logs one line per request, not worth keeping.
  const output: string[] = [];
  let collecting = true;
  // Werkzeug prints this only once it has bound the port, so it proves the port is moto's (a
  // connection alone could reach whoever took the port after freePort() released it).
  const bound = new Promise<void>((resolveBound, rejectBound) => {
    const collect = (chunk: Buffer): void => {
      if (!collecting) return;
      output.push(...chunk.toString().split('\n').filter((line) => line.trim()));
      if (output.length > 40) output.splice(0, output.length - 40);
      if (output.some((line) => line.includes(`Running on ${endpoint}`))) resolveBound();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      const log = output.join('\n');
      rejectBound(/address already in use|is in use by another program/i.test(log) ? new PortTaken(log) : new Error(`moto_server exited during start (code ${code}, signal ${signal}):\n${log}`));
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`moto_server did not start within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
  });
  try {
    await Promise.race([bound, timedOut]);
    await post(`${endpoint}/moto-api/reset`);
  } catch (error) {
    await stopProcess(child, 2_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  bound.catch(() => undefined); // a later exit (stop) must not surface as an unhandled rejection
  collecting = false;
  // Let the test process exit even if a test forgets stop(): the exit hook or the watchdog ends moto.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();

  return {
    endpoint,
    reset: () => post(`${endpoint}/moto-api/reset`),
    stop: () => stopProcess(child, 5_000),
    ecrClient: (options = {}) => createEcrClient({ region: 'eu-west-1', endpoint, credentials: TEST_CREDENTIALS, ...options }),
    setEcrScanFindings: (region, results) => post(`${endpoint}/moto-api/static/ecr/scan-finding-results`, { account_id: MOTO_ACCOUNT, region, results }),
  };
}

export async function startMoto({ timeoutMs = 30_000, attempts = 5 }: { timeoutMs?: number; attempts?: number } = {}): Promise<MotoServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOn(await freePort(), timeoutMs);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= attempts) throw error;
    }
  }
}

/**
 * Pushes an image the only way moto allows (PutImage with a manifest) and returns the digest
 * moto assigned: it is not the manifest's digest (moto hashes the layer digests), so tests must
 * not compute it themselves. A random layer makes every seeded image distinct.
 */
export async function seedImage(client: ECRClient, repositoryName: string, tag: string): Promise<string> {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${randomBytes(32).toString('hex')}` },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1, digest: `sha256:${randomBytes(32).toString('hex')}` }],
  });
  const response = await client.send(new PutImageCommand({ repositoryName, imageManifest: manifest, imageTag: tag }));
  const digest = response.image?.imageId?.imageDigest;
  if (!digest) throw new Error(`moto returned no digest for ${repositoryName}:${tag}`);
  return digest;
}

/** One ECR request the recorded transport received: the action and its JSON body. */
export interface RecordedCall {
  action: string;
  body: Record<string, unknown>;
}

/** An HTTP answer as ECR sends it (errors: `{ __type, message }` with a 4xx/5xx), or a network failure. */
export type RecordedReply = { status: number; body: unknown } | Error;

/**
 * For what moto does not model (throttling, 5xx, access denied, a scan that takes a while, real
 * pagination): an ECRClient whose HTTP layer answers with recorded ECR response shapes. Everything
 * above HTTP is the real SDK (serialization, signing, error parsing), so the adapters see exactly
 * the errors and objects they would see from ECR. One attempt per call: no SDK retry delays.
 */
export function recordedEcrClient(respond: (call: RecordedCall) => RecordedReply): { client: ECRClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const requestHandler = {
    async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
      const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
      const raw: unknown = request.body;
      const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : '{}';
      const call: RecordedCall = { action: target.slice(target.lastIndexOf('.') + 1), body: JSON.parse(text || '{}') as Record<string, unknown> };
      calls.push(call);
      const reply = respond(call);
      if (reply instanceof Error) throw reply;
      return {
        response: new HttpResponse({
          statusCode: reply.status,
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(8).toString('hex') },
          body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
        }),
      };
    },
    updateHttpClientConfig(): void {},
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
  };
  const client = new ECRClient({ region: 'eu-west-1', credentials: TEST_CREDENTIALS, maxAttempts: 1, requestHandler });
  return { client, calls };
}

/** ECR's JSON error body, as the SDK parses it into a named exception. */
export function ecrError(status: number, type: string, message: string): RecordedReply {
  return { status, body: { __type: type, message } };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (error: unknown) => (error instanceof Error ? error : assert.fail(`not an Error: ${String(error)}`)),
  );
}
