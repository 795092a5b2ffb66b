/**
 * The chart's templates and the TypeScript renderer must produce the same objects. Needs a helm
 * binary: HELM_BIN, .tools/bin/helm (scripts/setup.sh --with-helm builds it) or `helm` on PATH;
 * without one the suite fails rather than skips, because an unchecked chart is not a checked one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { createBuiltinChartRenderer } from '../../activities/adapters/helm';
import type { ReleaseSpec } from '../../activities/ports/chart-renderer';
import { releaseSpec } from './release-spec';

function findHelm(): string | undefined {
  const candidates = [process.env.HELM_BIN, join(__dirname, '../../.tools/bin/helm')];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (found) return found;
  try {
    execFileSync('helm', ['version', '--short'], { stdio: 'ignore' });
    return 'helm';
  } catch {
    return undefined;
  }
}

function noHelm(): never {
  throw new Error("no helm binary: run 'npm run setup -- --with-helm' or set HELM_BIN");
}

const helm = findHelm() ?? noHelm();

/** Lints the chart strictly (a failing lint throws) and returns the objects `helm template` prints. */
function helmTemplate(files: Record<string, string>, releaseName: string): unknown[] {
  const dir = mkdtempSync(join(tmpdir(), 'chart-parity-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, 'chart', path)), { recursive: true });
      writeFileSync(join(dir, 'chart', path), text);
    }
    execFileSync(helm, ['lint', '--strict', join(dir, 'chart')], { encoding: 'utf8' });
    const rendered = execFileSync(helm, ['template', releaseName, join(dir, 'chart')], { encoding: 'utf8' });
    return parseAllDocuments(rendered).map((d) => d.toJS() as unknown).filter((o) => o !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const byKind = (objects: unknown[]) => new Map(objects.map((o) => [(o as { kind: string }).kind, o]));

describe('helm template parity', () => {
  const cases: [string, ReleaseSpec][] = [
    ['a typical release', releaseSpec()],
    // Words YAML 1.1 reads as booleans or numbers must stay strings on both sides.
    ['names and a tag YAML 1.1 would misread', releaseSpec({ service: 'on', project: 'no', environment: 'y', image: { ...releaseSpec().request.image, tag: '1.0' } }, { namespace: 'no-y' })],
  ];
  for (const [name, spec] of cases) {
    it(`when ${name} is rendered by helm template, then it yields exactly the TypeScript manifests and lints clean`, async () => {
      const release = await createBuiltinChartRenderer().render(spec);
      const objects = helmTemplate(release.chart.files, spec.request.service);
      const ours = release.manifests.map((m) => parse(m.yaml) as unknown);
      assert.equal(objects.length, ours.length);
      const theirs = byKind(objects);
      for (const object of ours) {
        const kind = (object as { kind: string }).kind;
        assert.deepEqual(theirs.get(kind), object, `${kind} differs between helm template and the TypeScript renderer`);
      }
    });
  }
});
