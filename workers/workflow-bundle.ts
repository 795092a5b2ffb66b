/**
 * The worker's workflow bundle, built once per content and kept on disk.
 *
 * Bundling the workflows with webpack at every start costs seconds, and webpack's heap stays in the
 * worker process. Instead the bundle is named after a hash of everything that can change it
 * (`workflowBundleHash`), looked up in a cache directory, and on a miss built by a child process
 * (this module run as a script), so webpack's memory leaves with the child.
 *
 * Concurrent starts are safe: each builder writes a temporary file and renames it over the target
 * (atomic on one filesystem), so a reader sees either no bundle or a complete one; two builders of
 * the same hash write the same content.
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';

/** What the bundle is built with: `deployWorkflowBundleOptions` from `workers/deploy-worker.ts`. */
export interface WorkflowBundleInputs {
  readonly workflowsPath: string;
  /** Compiled into the bundle: the workflow sandbox cannot take a converter from the worker. */
  readonly failureConverterPath: string;
}

export interface LoadWorkflowBundleOptions {
  bundleOptions: WorkflowBundleInputs;
  /** Where bundles are kept; default `node_modules/.cache/deploy-platform` of this package. */
  cacheDir?: string;
  log?: (line: string) => void;
  /** Directories whose every file goes into the hash; default workflows/, shared/, activities/. */
  sourceRoots?: readonly string[];
  /** A build that takes longer is killed (webpack hung); default 3 minutes. */
  buildTimeoutMs?: number;
}

export interface LoadedWorkflowBundle {
  /** For `Worker.create({ workflowBundle: { codePath } })`. */
  codePath: string;
  hash: string;
  /** Whether this call built the bundle (false: it was in the cache). */
  built: boolean;
}

/** The package root: the repository, or /app in the image (where this file is dist/workers/*.js). */
const PACKAGE_ROOT = findPackageRoot(__dirname);

/**
 * Every directory workflow code can import from. The lint fence (eslint.config.mjs) lets workflows
 * import only their own modules, the pure part of shared/, activities/ for types, and
 * @temporalio/workflow|common; the failure converter lives in shared/. Whole directories and every
 * file in them, whatever its extension (source maps of compiled .js included), so the set is a
 * superset of what webpack reads; test/worker/workflow-bundle.test.ts checks that every source in
 * the bundle lies under them.
 */
export const DEFAULT_SOURCE_ROOTS: readonly string[] = ['workflows', 'shared', 'activities'].map((dir) => resolve(__dirname, '..', dir));

/**
 * Package-root files that can change what webpack resolves or emits: the lockfiles (npm's hidden
 * node_modules/.package-lock.json records what is actually installed, so a `npm install` without a
 * lockfile change still counts), package.json (resolution fields), swc and browserslist configs
 * (webpack's default target comes from a browserslist config when there is one).
 */
const PACKAGE_FILES = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', '.swcrc', '.browserslistrc', 'browserslist'];

/** The bundler and what it compiles in, by installed version (also catches a hand-edited node_modules). */
const BUNDLER_PACKAGES = ['@temporalio/worker', '@temporalio/workflow', '@temporalio/common', 'webpack', 'swc-loader', '@swc/core', 'source-map-loader'];

/** Environment variables browserslist reads (webpack consults it for its default target). */
const BUNDLER_ENV = ['BROWSERSLIST', 'BROWSERSLIST_CONFIG', 'BROWSERSLIST_ENV'];

const BUNDLE_NAME = /^workflow-bundle-[0-9a-f]{64}\.js$/;
const TEMP_NAME = /^workflow-bundle-[0-9a-f]{64}\.js\.\d+\.[0-9a-f]+\.tmp$/;
/** Bundles kept: the current one and the previous ones a rollback or a concurrent older worker may still want. */
const KEEP_BUNDLES = 3;
/** A temporary file this old is a dead build's leftover, not one in progress. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const DEFAULT_BUILD_TIMEOUT_MS = 3 * 60 * 1000;
/** How much of a failed build's output its error quotes. */
const OUTPUT_TAIL_CHARS = 4000;

export function defaultWorkflowBundleCacheDir(): string {
  return join(PACKAGE_ROOT, 'node_modules', '.cache', 'deploy-platform');
}

/**
 * The cached bundle for these inputs, building it first (in a child process) when it is missing.
 * Throws when the build fails, with the end of the build's output in the message.
 */
export async function loadWorkflowBundle(options: LoadWorkflowBundleOptions): Promise<LoadedWorkflowBundle> {
  const log = options.log ?? ((): void => undefined);
  const cacheDir = options.cacheDir ?? defaultWorkflowBundleCacheDir();
  const hashStarted = performance.now();
  const hash = workflowBundleHash(options.bundleOptions, options.sourceRoots);
  const hashMs = Math.round(performance.now() - hashStarted);
  const codePath = join(cacheDir, `workflow-bundle-${hash}.js`);
  const short = hash.slice(0, 12);

  if (isNonEmptyFile(codePath)) {
    markUsed(codePath);
    log(`workflow bundle ${short}: cached at ${codePath} (inputs hashed in ${hashMs} ms)`);
    return { codePath, hash, built: false };
  }

  log(`workflow bundle ${short}: not in ${cacheDir} (inputs hashed in ${hashMs} ms); building it in a child process`);
  const buildStarted = performance.now();
  ensureWritableDir(cacheDir);
  await buildInChild(codePath, options.bundleOptions, options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS);
  if (!isNonEmptyFile(codePath)) throw new Error(`workflow bundle build exited cleanly but wrote no ${codePath}`);
  log(`workflow bundle ${short}: built in ${Math.round(performance.now() - buildStarted)} ms at ${codePath}`);
  pruneCache(cacheDir, codePath, log);
  return { codePath, hash, built: true };
}

/** sha256 over everything that can change the bundle (see the constants above for why each is there). */
export function workflowBundleHash(bundleOptions: WorkflowBundleInputs, sourceRoots: readonly string[] = DEFAULT_SOURCE_ROOTS): string {
  const hash = createHash('sha256');
  // The Node version and platform run swc's native binary and webpack; the package root is
  // webpack's context (module ids) and the absolute paths in the bundle's source map.
  addEntry(hash, 'node', `${process.version} ${process.platform} ${process.arch}`);
  addEntry(hash, 'package root', PACKAGE_ROOT);
  addEntry(hash, 'bundle options', JSON.stringify([bundleOptions.workflowsPath, bundleOptions.failureConverterPath]));
  // This file is the build procedure: a change to it rebuilds without anyone bumping a version.
  addEntry(hash, 'builder', readFileSync(__filename));
  for (const name of BUNDLER_PACKAGES) addEntry(hash, `package ${name}`, installedVersion(name));
  for (const name of BUNDLER_ENV) addEntry(hash, `env ${name}`, process.env[name] ?? '\u0000unset');
  for (const file of PACKAGE_FILES) addEntry(hash, `file ${file}`, readIfExists(join(PACKAGE_ROOT, file)));
  for (const root of sourceRoots) {
    addEntry(hash, 'root', root);
    for (const file of filesUnder(root)) addEntry(hash, `source ${file}`, readFileSync(file));
  }
  return hash.digest('hex');
}

/** Length-prefixed, so that no two different input sets can produce the same byte stream. */
function addEntry(hash: Hash, label: string, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  hash.update(`${label}\u0000${bytes.length}\u0000`);
  hash.update(bytes);
}

/** Every file below `root`, sorted; none when it does not exist. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    const stats = entry.isSymbolicLink() ? statSync(path) : entry;
    if (stats.isDirectory()) files.push(...filesUnder(path));
    else if (stats.isFile()) files.push(path);
  }
  return files.sort();
}

function readIfExists(path: string): Buffer | string {
  return existsSync(path) ? readFileSync(path) : '\u0000missing';
}

function installedVersion(name: string): string {
  try {
    // Resolved from the bundler, as webpack's own require would find them.
    const fromBundler = createRequire(require.resolve('@temporalio/worker'));
    const manifest = JSON.parse(readFileSync(fromBundler.resolve(`${name}/package.json`), 'utf8')) as { version?: unknown };
    return String(manifest.version);
  } catch {
    return '\u0000unresolved';
  }
}

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..');
  }
}

/** The image's node_modules belong to root while the worker runs as `node`: say what to set. */
function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`workflow bundle cache ${dir} is not writable (${reason}); point WORKFLOW_BUNDLE_CACHE_DIR at a writable directory`);
  }
}

function isNonEmptyFile(path: string): boolean {
  try {
    const stats = statSync(path);
    return stats.isFile() && stats.size > 0;
  } catch {
    return false;
  }
}

/** The cache keeps the most recently USED bundles; best effort, as the directory may be read-only (a prebuilt image). */
function markUsed(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // A read-only cache only loses its recency order.
  }
}

/** Removes bundles beyond the newest few, and temporary files of builds that died. Best effort. */
function pruneCache(cacheDir: string, current: string, log: (line: string) => void): void {
  try {
    const entries = readdirSync(cacheDir).flatMap((name) => {
      const path = join(cacheDir, name);
      const mtimeMs = statOrUndefined(path)?.mtimeMs;
      return mtimeMs === undefined ? [] : [{ name, path, mtimeMs }];
    });
    const bundles = entries.filter((e) => BUNDLE_NAME.test(e.name)).sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const old of bundles.slice(KEEP_BUNDLES)) if (old.path !== current) rmSync(old.path, { force: true });
    const staleBefore = Date.now() - STALE_TEMP_MS;
    for (const temp of entries) if (TEMP_NAME.test(temp.name) && temp.mtimeMs < staleBefore) rmSync(temp.path, { force: true });
  } catch (error) {
    log(`workflow bundle: could not prune ${cacheDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function statOrUndefined(path: string): { mtimeMs: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined; // removed meanwhile by a concurrent prune
  }
}

/**
 * This module's file run by Node: under tsx (npm run worker, tests) it is .ts and needs the tsx
 * loader; compiled (dist/, the image) it is .js, and tsx, a dev dependency, is not installed.
 */
function childNodeArgs(): string[] {
  const loader = __filename.endsWith('.ts') ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  return [...loader, __filename];
}

async function buildInChild(codePath: string, bundleOptions: WorkflowBundleInputs, timeoutMs: number): Promise<void> {
  const args = [...childNodeArgs(), codePath, JSON.stringify(bundleOptions)];
  // cwd = package root: webpack's context, so the bundle does not depend on where the worker was started.
  const child = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
      child.once('error', fail);
      child.once('close', (exitCode, exitSignal) => done({ code: exitCode, signal: exitSignal }));
    });
    if (code === 0) return;
    const how = signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}`;
    throw new Error(`workflow bundle build failed (${how}):\n${output.trim() || '(no output)'}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the child: build with webpack, write atomically, exit ----

const noop = (): void => undefined;
const toStderr = (message: string): void => void process.stderr.write(`${condenseWebpackOutput(message)}\n`);
/** Webpack's errors and warnings reach stderr, which the parent quotes when the build fails. */
const childLogger: Logger = {
  log: (level, message) => (level === 'WARN' || level === 'ERROR' ? toStderr(message) : undefined),
  trace: noop,
  debug: noop,
  info: noop,
  warn: toStderr,
  error: toStderr,
};

/** The headline of each webpack problem: its stats add every path tried per unresolved import, which would push the headlines out of the quoted tail. */
const WEBPACK_HEADLINE = /^(?:ERROR in |WARNING in |Module not found|Module build failed|Module parse failed|webpack \S+ compiled)/;

function condenseWebpackOutput(message: string): string {
  const headlines = message.split('\n').filter((line) => WEBPACK_HEADLINE.test(line));
  return headlines.length > 0 ? headlines.join('\n') : message;
}

async function runBuildChild(argv: string[]): Promise<void> {
  const [target, optionsJson] = argv;
  if (!target || !optionsJson) throw new Error('usage: workflow-bundle <target .js> <{"workflowsPath","failureConverterPath"} JSON>');
  const inputs = JSON.parse(optionsJson) as WorkflowBundleInputs;
  const { code } = await bundleWorkflowCode({ workflowsPath: inputs.workflowsPath, failureConverterPath: inputs.failureConverterPath, logger: childLogger });
  writeFileAtomically(target, code);
}

/** Temp file in the same directory, flushed, then renamed: readers never see a partial bundle. */
function writeFileAtomically(target: string, content: string): void {
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeFileSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

if (require.main === module) {
  runBuildChild(process.argv.slice(2)).catch((error: unknown) => {
    // The message only: a webpack failure's stack is webpack's internals, its cause is printed above.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
