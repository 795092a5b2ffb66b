/**
 * The lint fence around workflow code is an allow-list: a probe file in workflows/ importing
 * what workflows must not (Node built-ins, I/O code in shared/, zod, a value from activities)
 * is refused, and what they may import passes.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../../scripts/lib/tools';

const probes: string[] = [];

async function lint(relativePath: string, code: string): Promise<string[]> {
  const file = join(projectRoot, relativePath);
  probes.push(file);
  writeFileSync(file, code);
  const [result] = await new ESLint({ cwd: projectRoot }).lintFiles([file]);
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

after(() => {
  for (const file of probes) rmSync(file, { force: true });
});

describe('workflow import fence', () => {
  it('when a workflow imports a built-in, I/O code of shared/, zod or an activity value, then lint refuses each', async () => {
    const refused = await lint(
      'workflows/deploy/fence-probe-refused.ts',
      [
        "import { readFileSync } from 'node:fs';",
        "import { createHash } from 'crypto';",
        "import { z } from 'zod';",
        "import { openPlatformStore } from '../../shared/store';",
        "import { dataConverterFor } from '../../shared/codec/data-converter';",
        "import { createDeployActivities } from '../../activities/deploy';",
        "import { createApp } from '../../api/app';",
        'export const used = [readFileSync, createHash, z, openPlatformStore, dataConverterFor, createDeployActivities, createApp];',
        '',
      ].join('\n'),
    );
    // Built-ins are named by two rules (the list and the allow-list); count each import once.
    const imports = new Set(refused.map((m) => /^'([^']+)'/.exec(m)?.[1]));
    assert.deepEqual([...imports].sort(), ['../../activities/deploy', '../../api/app', '../../shared/codec/data-converter', '../../shared/store', 'crypto', 'node:fs', 'zod'], refused.join('\n'));
    assert.ok(refused.some((m) => /Node built-ins/.test(m)));
    assert.ok(refused.some((m) => /pure part of shared/.test(m)));
    assert.ok(refused.some((m) => /import type/.test(m)));
  });

  it('when a workflow imports only the allowed modules, then lint passes it', async () => {
    const refused = await lint(
      'workflows/deploy/fence-probe-allowed.ts',
      [
        "import { sleep } from '@temporalio/workflow';",
        "import { ApplicationFailure } from '@temporalio/common';",
        "import type { DeployActivities } from '../../activities/deploy';",
        "import { DEPLOY_STAGES } from '../../shared/contracts/deploy';",
        "import { ErrorType } from '../../shared/errors';",
        "import { temporalUiLink } from '../../shared/temporal-ui';",
        "import { RunTracker } from '../shared/run-tracker';",
        'export type Used = DeployActivities;',
        'export const used = [sleep, ApplicationFailure, DEPLOY_STAGES, ErrorType, temporalUiLink, RunTracker];',
        '',
      ].join('\n'),
    );
    assert.deepEqual(refused, []);
  });
});
