/**
 * `npm start`: the whole platform on one machine with its embedded defaults — the Temporal dev
 * server (SQLite under the data directory, so runs survive restarts), the ServiceNow simulator,
 * the worker and the API — in one terminal. Ctrl-C stops everything.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../shared/config';
import { spawnManaged, stopProcess, waitForPort } from './lib/processes';
import { startTemporalDevServer, type DevServer } from './lib/temporal-dev-server';
import { projectRoot, temporalCliPath } from './lib/tools';
import { waitForWorkerPolling } from './lib/worker-polling';
import { workerProcessEnv } from '../workers/process-env';

const COLORS = { temporal: 35, simulator: 36, worker: 33, api: 32, start: 1 } as const;
type Name = keyof typeof COLORS;
const useColor = process.stdout.isTTY;

function say(name: Name, line: string): void {
  const label = name.padEnd(9);
  process.stdout.write(`${useColor ? `\x1b[${COLORS[name]}m${label}\x1b[0m` : label} | ${line}\n`);
}

function pipeLines(name: Name, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) say(name, line);
    });
  }
}

async function main(): Promise<void> {
  // Everything this starts writes private files (Temporal's SQLite, the platform database, secrets):
  // the dev server and the children inherit the umask.
  process.umask(0o077);
  const config = loadConfig(process.env, 'api');
  const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const externalTemporal = process.env.TEMPORAL_ADDRESS;
  const children: { name: Name; process: ChildProcess }[] = [];
  let temporal: DevServer | undefined;
  let stopping = false;

  /** Stops everything once; a repeated signal while stopping is ignored. */
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('start', 'stopping…');
    for (const child of [...children].reverse()) await stopProcess(child.process);
    if (temporal) await temporal.stop();
    say('start', 'stopped');
    process.exit(code);
  };
  // on, not once: tsx relays the signal it received too, and a second SIGINT must not kill the supervisor mid-stop.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  let temporalAddress = externalTemporal;
  if (!temporalAddress) {
    say('start', `starting Temporal dev server on 127.0.0.1:${temporalPort} (data: ${join(config.dataDir, 'temporal.sqlite')})`);
    temporal = await startTemporalDevServer({
      port: temporalPort,
      uiPort,
      // Payloads are encrypted; the UI shows them through the API's codec endpoint.
      uiCodecEndpoint: `${config.api.publicBaseUrl}/codec`,
      dbFile: join(config.dataDir, 'temporal.sqlite'),
      onOutput: (line) => say('temporal', line),
    }).catch((error: Error) => {
      say('start', `cannot start Temporal: ${error.message}`);
      say('start', `if port ${temporalPort} or ${uiPort} is taken, set TEMPORAL_PORT / TEMPORAL_UI_PORT, or TEMPORAL_ADDRESS to use a running server`);
      return process.exit(1);
    });
    temporalAddress = temporal.address;
  }

  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_URL: config.temporal.uiUrl,
    PLATFORM_DATA_DIR: config.dataDir,
    FORCE_COLOR: '0',
  };
  const launch = (name: Name, entry: string, extraEnv: Record<string, string> = {}): void => {
    const child = spawnManaged(process.execPath, ['--import', 'tsx', entry], { cwd: projectRoot, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    pipeLines(name, child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      say('start', `${name} exited unexpectedly (code ${code}, signal ${signal}); stopping everything`);
      void stopAll(1);
    });
    children.push({ name, process: child });
  };

  const launchedAt = Date.now();
  launch('simulator', 'simulators/servicenow/main.ts');
  await waitForPort(config.simulator.port, 30_000, config.simulator.host);
  launch('worker', 'workers/main.ts', workerProcessEnv());
  launch('api', 'api/main.ts');
  await waitForPort(config.api.port, 60_000, config.api.host);
  // "Running" means runs move: wait until Temporal sees this worker poll its task queue.
  await waitForWorkerPolling({ address: temporalAddress, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, timeoutMs: 120_000, startedAt: launchedAt });

  const api = config.api.publicBaseUrl;
  const cliPath = (): string => {
    try {
      return temporalCliPath();
    } catch {
      return 'temporal';
    }
  };
  const banner = [
    '',
    'The deployment platform is running (embedded defaults: GitOps repo, ServiceNow simulator).',
    `  API                 ${api}   (health: ${api}/readyz)`,
    `  Temporal UI         ${config.temporal.uiUrl}`,
    `  Temporal gRPC       ${temporalAddress}   (CLI: ${cliPath()} workflow list --address ${temporalAddress})`,
    `  ServiceNow sim      http://${config.simulator.host}:${config.simulator.port}/sim/changes`,
    `  GitOps repository   ${config.gitops.repoDir}`,
    ...(config.devCiToken
      ? [`  Dev CI token        ${config.devCiToken}`, `                      (development only; stored in ${config.devSecretsFile})`]
      : []),
    '',
    'Try it (README "Try it" has the whole walk-through): export TOKEN=<dev CI token>, then create a landing zone',
    `  curl -s -X POST ${api}/v1/landing-zones -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `    -d '{"project":"demo","tenant":"retail","class":"node-web","owners":{"emails":["owner@example.com"],"group":"team-demo"},"environments":["dev","staging"]}'`,
    'and deploy into it',
    `  curl -s -X POST ${api}/v1/deployments -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `    -d '{"project":"demo","service":"hello","environment":"dev","image":"registry.localhost/retail/demo:1.0.0@sha256:${'a'.repeat(64)}","port":3000,"route":{"host":"hello.demo.example.com"}}'`,
    '',
    'Press Ctrl-C to stop everything.',
    '',
  ];
  for (const line of banner) say('start', line);
}

main().catch((error: unknown) => {
  say('start', `failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
