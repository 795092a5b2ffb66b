/**
 * docker-compose.yml, the Dockerfile and their support files, checked without a Docker engine:
 * `docker-compose config` (v1.29.2, from .tools/venv) parses and interpolates the real file; the
 * search-attribute init script runs for real against a Temporal dev server; the Dockerfile is
 * linted loosely. Nothing here builds an image or starts a container.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { dockerComposePath, projectRoot, temporalCliPath } from '../../scripts/lib/tools';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { stopOwnTemporal, testTemporalAddress } from '../helpers/temporal';
import { WORKER_MALLOC_ARENA_MAX, WORKER_NODE_OPTIONS, workerProcessEnv } from '../../workers/process-env';

const composeFile = join(projectRoot, 'docker-compose.yml');
const dockerfile = join(projectRoot, 'Dockerfile');

/** Every variable the file requires with ${VAR:?...}, with a dummy value (never a real secret). */
const REQUIRED_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'dummy-postgres-password-0000',
  SERVICENOW_URL: 'https://example.service-now.com',
  SERVICENOW_USER: 'platform.integration',
  SERVICENOW_PASSWORD: 'dummy-servicenow-password-0000',
  SERVICENOW_WEBHOOK_SECRET: 'dummy-webhook-secret-000000000000',
  PLATFORM_CI_TOKENS: '{"dummy-ci-token-0000000000": {"subject": "ci", "projects": ["*"]}}',
  PLATFORM_PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64'),
};
/** Secrets that exist only during a rotation. */
const OPTIONAL_SECRET_VARS = ['SERVICENOW_WEBHOOK_PREVIOUS_SECRET'];
const SECRET_VARS = ['POSTGRES_PASSWORD', 'SERVICENOW_PASSWORD', 'SERVICENOW_WEBHOOK_SECRET', 'PLATFORM_CI_TOKENS', 'PLATFORM_PAYLOAD_KEY'];

/** The attributes the brief names; shared/search-attributes.ts must keep them all. */
const EXPECTED_SEARCH_ATTRIBUTES = ['DeployProject', 'DeployService', 'DeployEnvironment', 'DeployStage', 'DeployStatus', 'ChangeNumber', 'DeployIdempotencyKey'];

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  ports?: ({ published: number | string; target: number; host_ip?: string } | string)[];
  volumes?: (string | { source?: string; target: string; type?: string })[];
  profiles?: string[];
  hostname?: string;
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/**
 * Runs docker-compose with exactly `env` (plus PATH/HOME) and an empty env file, so neither the
 * developer's shell nor a local .env changes the outcome.
 */
function compose(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'compose-test-'));
  try {
    const envFile = join(dir, 'empty.env');
    writeFileSync(envFile, '');
    const result = spawnSync(dockerComposePath(), ['--env-file', envFile, '-f', composeFile, ...args], {
      cwd: projectRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
      timeout: 60_000,
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function asList(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

/** Port mappings in either form docker-compose prints ("127.0.0.1:8233:8080/tcp" or an object). */
function portMappings(s: ComposeService): { hostIp?: string; published: string; target: number }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip, published: String(p.published), target: Number(p.target) };
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.pop() ?? '';
    return { hostIp: parts.pop(), published, target };
  });
}

function dependsOn(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

/** The Dockerfile's instructions as [KEYWORD, rest], continuation lines joined, comments dropped. */
function dockerfileInstructions(text: string): [string, string][] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

/** The default CMD of the last stage, in exec form. */
function dockerfileCmd(): string[] {
  const cmds = dockerfileInstructions(readFileSync(dockerfile, 'utf8')).filter(([keyword]) => keyword === 'CMD');
  const last = cmds.at(-1);
  assert.ok(last, 'Dockerfile has no CMD');
  const parsed: unknown = JSON.parse(last[1]);
  assert.ok(Array.isArray(parsed), 'CMD must use the exec (JSON array) form so signals reach node');
  return parsed as string[];
}

/** `node dist/<path>.js` -> `<path>.ts` relative to the project root. */
function sourceOf(command: string[]): string {
  assert.equal(command[0], 'node', `command ${JSON.stringify(command)} should run node`);
  const script = command[1] ?? '';
  const match = /^dist\/(.+)\.js$/.exec(script);
  assert.ok(match?.[1], `command ${JSON.stringify(command)} should run a compiled file under dist/`);
  return `${match[1]}.ts`;
}

function buildIncludes(): string[] {
  const tsconfig = JSON.parse(readFileSync(join(projectRoot, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  return tsconfig.include;
}

let config: ComposeConfig;
let raw: ComposeConfig;

before(() => {
  const result = compose(['config'], REQUIRED_ENV);
  assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
  config = parse(result.stdout) as ComposeConfig;
  raw = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as ComposeConfig;
});

const service = (name: string): ComposeService => {
  const found = config.services[name];
  assert.ok(found, `service ${name} is missing`);
  return found;
};

describe('docker-compose.yml', () => {
  test('parses with docker-compose 1.29.2 and has the expected services', () => {
    assert.deepEqual(Object.keys(config.services).sort(), [
      'api',
      'postgresql',
      'servicenow-simulator',
      'temporal',
      'temporal-init',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
  });

  test('PostgreSQL has a healthcheck and keeps its data in a named volume', () => {
    const pg = service('postgresql');
    assert.match(asList(pg.healthcheck?.test).join(' '), /pg_isready/);
    const data = (raw.services.postgresql?.volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(':/var/lib/postgresql/data'));
    assert.ok(typeof data === 'string', 'the data directory is a volume');
    const volumeName = data.split(':')[0] ?? '';
    assert.ok(config.volumes && volumeName in config.volumes, `${volumeName} is a named volume declared at the top level`);
  });

  test('Temporal images are pinned, server and admin-tools at the same version, no deprecated auto-setup', () => {
    const images = Object.fromEntries(Object.entries(config.services).map(([name, s]) => [name, s.image ?? '']));
    for (const [name, image] of Object.entries(images)) {
      if (config.services[name]?.build) continue; // our own image
      assert.match(image, /:\d+(\.\d+)*$/, `${name} image ${image} must be pinned to a version`);
    }
    assert.ok(!Object.values(images).some((image) => image.includes('auto-setup')), 'temporalio/auto-setup is deprecated upstream');
    const version = (image: string | undefined): string => (image ?? '').split(':')[1] ?? '';
    assert.match(images.temporal ?? '', /^temporalio\/server:/);
    assert.equal(version(images['temporal-schema']), version(images.temporal), 'schema tool matches the server version');
    assert.equal(version(images['temporal-init']), version(images.temporal), 'admin-tools matches the server version');
    assert.equal(service('temporal').environment?.DB, 'postgres12');
    assert.equal(service('temporal').environment?.POSTGRES_SEEDS, 'postgresql');
  });

  test('start order: schema before server, init after the server, worker and API after init', () => {
    assert.deepEqual(dependsOn(service('temporal-schema')), { postgresql: 'service_healthy' });
    assert.deepEqual(dependsOn(service('temporal')), { 'temporal-schema': 'service_completed_successfully' });
    assert.deepEqual(dependsOn(service('temporal-init')), { temporal: 'service_healthy' });
    assert.equal(dependsOn(service('worker'))['temporal-init'], 'service_completed_successfully');
    assert.equal(dependsOn(service('api'))['temporal-init'], 'service_completed_successfully');
  });

  test('the init job registers every custom search attribute, as Keyword', () => {
    const init = service('temporal-init');
    assert.match(init.image ?? '', /^temporalio\/admin-tools:/);
    const args = asList(init.command);
    assert.equal(args[0], '/platform-init/init-namespace.sh');
    const registered = Object.fromEntries(args.slice(1).map((pair) => pair.split('=') as [string, string]));
    assert.deepEqual(registered, CUSTOM_SEARCH_ATTRIBUTES, 'init list == shared/search-attributes.ts');
    for (const name of EXPECTED_SEARCH_ATTRIBUTES) assert.equal(registered[name], 'Keyword', name);
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) {
      assert.equal(init.environment?.[key], service('worker').environment?.[key], `init prepares the ${key} the worker uses`);
    }
  });

  test('the init and schema scripts are mounted from deploy/compose/temporal and are valid sh', () => {
    for (const name of ['temporal-init', 'temporal-schema']) {
      const s = service(name);
      const mount = (s.volumes ?? []).find((v) => (typeof v === 'string' ? v : v.target).includes('/platform-init'));
      assert.ok(mount, `${name} mounts the init scripts`);
      assert.equal(asList(s.entrypoint)[0], '/bin/sh');
      const script = asList(s.command)[0] ?? '';
      const local = join(projectRoot, 'deploy/compose/temporal', script.replace('/platform-init/', ''));
      assert.ok(existsSync(local), `${local} exists`);
      const check = spawnSync('sh', ['-n', local], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
    }
    assert.ok(existsSync(join(projectRoot, 'deploy/compose/temporal/dynamicconfig/production-sql.yaml')));
  });

  test('worker and API run the platform image with production settings', () => {
    for (const name of ['api', 'worker', 'servicenow-simulator']) {
      const s = service(name);
      assert.ok(s.build, `${name} is built from the Dockerfile`);
      assert.equal(s.environment?.NODE_ENV, 'production', name);
    }
    assert.equal(service('worker').environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(service('api').environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(service('api').environment?.API_HOST, '0.0.0.0', 'the API must listen beyond loopback inside its container');
    assert.equal(service('worker').environment?.SERVICENOW_URL, REQUIRED_ENV.SERVICENOW_URL);
    // Least privilege: the API never talks to ServiceNow, so it gets no ServiceNow password.
    assert.equal(service('api').environment?.SERVICENOW_PASSWORD, undefined);
  });

  test('the worker runs with the memory settings npm start and the bench use (workers/process-env.ts)', () => {
    const worker = service('worker').environment;
    assert.equal(worker?.MALLOC_ARENA_MAX, WORKER_MALLOC_ARENA_MAX);
    assert.equal(worker?.NODE_OPTIONS, WORKER_NODE_OPTIONS);
    assert.deepEqual(workerProcessEnv({}), { MALLOC_ARENA_MAX: WORKER_MALLOC_ARENA_MAX, NODE_OPTIONS: WORKER_NODE_OPTIONS });
    assert.deepEqual(workerProcessEnv({ MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-old-space-size=512' }), {
      MALLOC_ARENA_MAX: '4',
      NODE_OPTIONS: `--max-old-space-size=512 ${WORKER_NODE_OPTIONS}`,
    }, 'what the operator set wins, and NODE_OPTIONS is extended');
    assert.equal(workerProcessEnv({ NODE_OPTIONS: '--max-semi-space-size=16' }).NODE_OPTIONS, '--max-semi-space-size=16', 'an explicit young generation size is kept');
  });

  test('the worker data directory is a named volume shared with the API', () => {
    const dataDir = service('worker').environment?.PLATFORM_DATA_DIR;
    assert.ok(dataDir, 'PLATFORM_DATA_DIR is set');
    const volumeAt = (name: string): string | undefined => {
      const entry = (raw.services[name]?.volumes ?? []).find((v) => typeof v === 'string' && v.split(':')[1] === dataDir);
      return typeof entry === 'string' ? entry.split(':')[0] : undefined;
    };
    const volume = volumeAt('worker');
    assert.ok(volume && config.volumes && volume in config.volumes, 'worker data directory is a declared named volume');
    assert.equal(volumeAt('api'), volume);
    assert.ok(service('worker').hostname, 'stable hostname (GitOps lock files record it)');
  });

  test('the API has a healthcheck on its own port', () => {
    const api = service('api');
    const check = asList(api.healthcheck?.test).join(' ');
    assert.match(check, /\/(readyz|healthz)/);
    assert.match(check, new RegExp(`:${api.environment?.API_PORT ?? '8080'}/`));
    assert.ok(portMappings(api).some((p) => p.target === 8080 && p.published === '8080'));
  });

  test('the Temporal UI serves on 8080 inside and is published on 8233', () => {
    const ui = service('temporal-ui');
    assert.match(ui.image ?? '', /^temporalio\/ui:\d/);
    const published = portMappings(ui).find((p) => p.target === 8080);
    assert.equal(published?.published, '8233');
    assert.equal(published?.hostIp, '127.0.0.1', 'the UI has no login of its own: loopback unless an operator opens it');
    assert.equal(ui.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok(ui.environment && 'TEMPORAL_CODEC_ENDPOINT' in ui.environment, 'the codec endpoint can be configured');
  });

  test('the ServiceNow simulator only runs with the simulator profile', () => {
    assert.deepEqual(service('servicenow-simulator').profiles, ['simulator']);
    for (const [name, s] of Object.entries(config.services)) {
      if (name !== 'servicenow-simulator') assert.equal(s.profiles, undefined, `${name} runs without a profile`);
    }
    assert.match(service('servicenow-simulator').environment?.SIMULATOR_WEBHOOK_URL ?? '', /^http:\/\/api:8080\/v1\/webhooks\/servicenow$/);
  });

  test('secrets come only from the environment, as required variables', () => {
    const text = readFileSync(composeFile, 'utf8');
    for (const name of SECRET_VARS) {
      assert.match(text, new RegExp(`\\$\\{${name}:\\?[^}]+\\}`), `${name} uses \${${name}:?...}`);
      assert.doesNotMatch(text, new RegExp(`\\$\\{${name}:-`), `${name} must have no default`);
    }
    // Every secret-looking environment entry in the raw file is a required interpolation.
    for (const [name, s] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!/PASSWORD|PWD|SECRET|TOKENS?$|PAYLOAD_KEY$/.test(key) || /PASS_ACCESS_TOKEN/.test(key)) continue;
        // A secret that only exists during a rotation may be absent: empty by default, never a literal.
        if (OPTIONAL_SECRET_VARS.includes(key)) {
          assert.equal(String(value), `\${${key}:-}`, `${name}.${key} must be \${${key}:-}`);
          continue;
        }
        assert.match(String(value), /^\$\{[A-Z0-9_]+:\?[^}]+\}$/, `${name}.${key} must be \${VAR:?message}, not a literal`);
      }
    }
    // The dummy values used here show up in the rendered config, so interpolation really happened.
    assert.equal(service('postgresql').environment?.POSTGRES_PASSWORD, REQUIRED_ENV.POSTGRES_PASSWORD);
  });

  test('without the required secrets, compose refuses and names the missing variable', () => {
    const none = compose(['config'], {});
    assert.notEqual(none.status, 0, 'config must fail with no secrets at all');
    for (const name of Object.keys(REQUIRED_ENV)) {
      const { [name]: _omitted, ...rest } = REQUIRED_ENV;
      const result = compose(['config'], rest);
      assert.notEqual(result.status, 0, `config must fail without ${name}`);
      assert.match(result.stderr, new RegExp(`set ${name}\\b`), `the error names ${name}:\n${result.stderr}`);
    }
    // Empty counts as missing (`:?`), so a blank line in .env cannot start production with no secret.
    const blank = compose(['config'], { ...REQUIRED_ENV, SERVICENOW_WEBHOOK_SECRET: '' });
    assert.notEqual(blank.status, 0);
    assert.match(blank.stderr, /SERVICENOW_WEBHOOK_SECRET/);
  });

  test('deploy/compose/env.example lists every required variable and holds no value for a secret', () => {
    const example = readFileSync(join(projectRoot, 'deploy/compose/env.example'), 'utf8');
    for (const name of Object.keys(REQUIRED_ENV)) assert.match(example, new RegExp(`^${name}=`, 'm'), name);
    for (const name of SECRET_VARS) assert.match(example, new RegExp(`^${name}=$`, 'm'), `${name} is left empty`);
  });
});

describe('entry points: compose commands map to TypeScript sources', () => {
  const commands = (): [string, string[]][] => {
    const defaultCmd = dockerfileCmd();
    return Object.entries(config.services)
      .filter(([, s]) => s.build)
      .map(([name, s]) => [name, s.command ? asList(s.command) : defaultCmd]);
  };

  test('the image default CMD runs the API; worker and simulator override it', () => {
    const map = Object.fromEntries(commands().map(([name, command]) => [name, sourceOf(command)]));
    assert.deepEqual(map, {
      api: 'api/main.ts',
      worker: 'workers/main.ts',
      'servicenow-simulator': 'simulators/servicenow/main.ts',
    });
    assert.equal(service('api').command, undefined, 'the API uses the image CMD');
  });

  for (const [label, source] of [
    ['api', 'api/main.ts'],
    ['worker', 'workers/main.ts'],
    ['servicenow-simulator', 'simulators/servicenow/main.ts'],
  ] as const) {
    test(`${label}: ${source} exists and is compiled by tsconfig.build.json`, () => {
      assert.ok(existsSync(join(projectRoot, source)), `${source} does not exist (yet): dist/${source.replace(/\.ts$/, '.js')} would be missing from the image`);
      const top = source.split('/')[0] ?? '';
      assert.ok(buildIncludes().includes(top), `${top} is in tsconfig.build.json "include"`);
    });
  }
});

describe('Dockerfile (loose lint)', () => {
  const text = (): string => readFileSync(dockerfile, 'utf8');
  const instructions = (): [string, string][] => dockerfileInstructions(text());

  test('multi-stage on node:20-bookworm-slim: npm ci + build, then production dependencies only', () => {
    const from = instructions().filter(([k]) => k === 'FROM').map(([, rest]) => rest);
    assert.ok(from.length >= 2, 'at least a build and a runtime stage');
    const arg = /ARG NODE_IMAGE=(\S+)/.exec(text())?.[1];
    const stages = new Set<string>();
    for (const stage of from) {
      const [image = '', , alias] = stage.split(/\s+/);
      // A stage starts from the node image or from an earlier stage of this file.
      if (!stages.has(image)) assert.equal(image === '${NODE_IMAGE}' ? arg : image, 'node:20-bookworm-slim', stage);
      if (alias) stages.add(alias);
    }
    const runs = instructions().filter(([k]) => k === 'RUN').map(([, rest]) => rest);
    assert.ok(runs.some((r) => /\bnpm ci\b(?!.*--omit=dev)/.test(r)), 'build stage: npm ci');
    assert.ok(runs.some((r) => /\bnpm run build\b/.test(r)), 'build stage: npm run build');
    assert.ok(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'deps stage: npm ci --omit=dev');
    assert.ok(runs.some((r) => /apt-get install[^&]*\bgit\b/.test(r)), 'git is installed (GitOps target)');
    const copies = instructions().filter(([k]) => k === 'COPY').map(([, rest]) => rest);
    assert.ok(copies.some((c) => /--from=build\s+\/app\/dist\s/.test(c)), 'runtime copies dist from the build stage');
    assert.ok(copies.some((c) => /--from=deps\s+\/app\/node_modules\s/.test(c)), 'runtime copies production node_modules from the deps stage');
    assert.ok(copies.some((c) => /^config\s/.test(c)), 'runtime copies config/ (environment policy)');
    assert.ok(copies.some((c) => /package-lock\.json/.test(c)), 'npm ci needs the lockfile');
  });

  test('the malloc_trim addon (file:native/malloc-trim) is there before each npm ci and in the runtime stage', () => {
    const lines = instructions();
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string>; scripts?: Record<string, string> };
    assert.equal(pkg.optionalDependencies?.['@deploy-platform/malloc-trim'], 'file:native/malloc-trim');
    // npm ci does not run a linked dependency's install script: the root's postinstall builds it.
    assert.match(pkg.scripts?.postinstall ?? '', /cd native\/malloc-trim && node-gyp rebuild/);
    const npmCi = lines.flatMap(([k, rest], i) => (k === 'RUN' && /\bnpm ci\b/.test(rest) ? [i] : []));
    assert.equal(npmCi.length, 2);
    for (const at of npmCi) {
      const stageStart = lines.slice(0, at).map(([k]) => k).lastIndexOf('FROM');
      const copied = lines.slice(stageStart, at).some(([k, rest]) => k === 'COPY' && /^native\s+\.\/native$/.test(rest.trim()));
      assert.ok(copied, `COPY native ./native before "${lines[at]?.[1]}"`);
    }
    assert.ok(lines.some(([k, rest]) => k === 'COPY' && /--from=deps\s+\/app\/native\s/.test(rest)), 'the runtime stage copies the built addon that node_modules links to');
  });

  test('the build stage copies every directory tsconfig.build.json compiles', () => {
    const copied = instructions()
      .filter(([k, rest]) => k === 'COPY' && !rest.startsWith('--from'))
      .flatMap(([, rest]) => rest.split(/\s+/).slice(0, -1));
    for (const dir of buildIncludes()) assert.ok(copied.includes(dir), `COPY ${dir}`);
  });

  test('runs as a non-root user', () => {
    const users = instructions().filter(([k]) => k === 'USER').map(([, rest]) => rest.trim());
    const last = users.at(-1);
    assert.ok(last, 'the Dockerfile sets USER');
    assert.ok(!['root', '0', '0:0', 'root:root'].includes(last), `USER ${last} is root`);
    // USER comes after the last FROM, i.e. it applies to the runtime stage.
    const kinds = instructions().map(([k]) => k);
    assert.ok(kinds.lastIndexOf('USER') > kinds.lastIndexOf('FROM'), 'USER is set in the runtime stage');
  });

  test('bakes in no secret', () => {
    for (const [keyword, rest] of instructions()) {
      if (keyword !== 'ENV' && keyword !== 'ARG') continue;
      assert.doesNotMatch(rest, /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|CI_TOKENS)/i, `${keyword} ${rest}`);
    }
    assert.doesNotMatch(text(), /(?:BEGIN [A-Z ]*PRIVATE KEY|ghp_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16})/);
    const ignore = readFileSync(join(projectRoot, '.dockerignore'), 'utf8').split(/\r?\n/).map((l) => l.trim());
    for (const entry of ['.env', '.data', '.git', '.tools']) assert.ok(ignore.includes(entry), `.dockerignore excludes ${entry}`);
  });

  test('.dockerignore keeps the build context small without hiding what the Dockerfile copies', () => {
    const ignore = readFileSync(join(projectRoot, '.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['**/node_modules', 'dist', 'test']) assert.ok(ignore.includes(entry), `.dockerignore excludes ${entry}`);
    const copied = instructions()
      .filter(([k, rest]) => k === 'COPY' && !rest.startsWith('--from'))
      .flatMap(([, rest]) => rest.split(/\s+/).slice(0, -1));
    for (const path of copied) assert.ok(!ignore.includes(path), `${path} is copied but ignored`);
  });

  test('PID 1 forwards signals and the default CMD is the API', () => {
    assert.match(text(), /ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/);
    assert.deepEqual(dockerfileCmd(), ['node', 'dist/api/main.js']);
  });
});

describe('deploy/compose/temporal/init-namespace.sh against a Temporal dev server', () => {
  let address = '';
  const script = join(projectRoot, 'deploy/compose/temporal/init-namespace.sh');
  // Fresh namespaces on the suite's server (or this file's own): nothing is registered in them yet.
  const suffix = randomBytes(4).toString('hex');

  before(async () => {
    address = await testTemporalAddress();
  });
  after(() => stopOwnTemporal());

  const run = (namespace: string, args: string[]): { status: number | null; output: string } => {
    const result = spawnSync('sh', [script, ...args], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TEMPORAL_CLI: temporalCliPath(),
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        INIT_RETRY_SECONDS: '1',
        INIT_MAX_ATTEMPTS: '30',
      },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };

  const customAttributes = (namespace: string): Record<string, string> => {
    const result = spawnSync(temporalCliPath(), ['operator', 'search-attribute', 'list', '--namespace', namespace, '--address', address, '-o', 'json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return (JSON.parse(result.stdout) as { customAttributes?: Record<string, string> }).customAttributes ?? {};
  };

  test('creates the namespace and registers exactly the compose list, and a second run changes nothing', () => {
    const args = asList(service('temporal-init').command).slice(1);
    const first = run(`compose-init-${suffix}`, args);
    assert.equal(first.status, 0, first.output);
    assert.match(first.output, new RegExp(`namespace 'compose-init-${suffix}' created`));
    const registered = customAttributes(`compose-init-${suffix}`);
    for (const name of Object.keys(CUSTOM_SEARCH_ATTRIBUTES)) {
      assert.equal(registered[name], 'INDEXED_VALUE_TYPE_KEYWORD', `${name} is a Keyword attribute`);
    }
    const second = run(`compose-init-${suffix}`, args);
    assert.equal(second.status, 0, second.output);
    assert.doesNotMatch(second.output, /created/);
    assert.match(second.output, /ready with 7 custom search attributes/);
  });

  test('an attribute registered with another type fails the job, naming it', () => {
    assert.equal(run(`compose-conflict-${suffix}`, ['DeployStage=Keyword']).status, 0);
    const conflict = run(`compose-conflict-${suffix}`, ['DeployStage=Text']);
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.output, /DeployStage.*Keyword, not Text/);
  });

  test('rejects a malformed argument before touching the server', () => {
    const bad = run(`compose-bad-${suffix}`, ['Deploy-Stage=Keyword']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.output, /bad search attribute name/);
  });
});
