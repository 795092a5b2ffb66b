import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const projectRoot = resolve(__dirname, '..', '..');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Same order as scripts/setup.sh: TEMPORAL_CLI_PATH, PATH, then the project's .tools/venv. */
export function temporalCliPath(): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) return fromEnv;
  const found = onPath('temporal') ?? join(projectRoot, '.tools', 'venv', 'bin', 'temporal');
  if (!isExecutable(found)) {
    throw new Error(`Temporal CLI not found (looked at TEMPORAL_CLI_PATH, PATH and ${found}); run 'npm run setup'.`);
  }
  return found;
}

export function dockerComposePath(): string {
  const local = join(projectRoot, '.tools', 'venv', 'bin', 'docker-compose');
  if (isExecutable(local)) return local;
  const found = onPath('docker-compose');
  if (!found) throw new Error(`docker-compose not found at ${local} or on PATH; run 'npm run setup'.`);
  return found;
}

export { projectRoot };
