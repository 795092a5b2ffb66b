/**
 * Project templates: every class loads and validates, renders for a project, and its pipelines
 * build, scan, pin the digest and deploy through the platform with the project's token.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_TEMPLATES_DIR, PROJECT_CLASSES, loadProjectTemplate, renderProjectSkeleton, type SkeletonContext } from '../../shared/project-templates';

const context: SkeletonContext = {
  project: 'shop',
  tenant: 'retail',
  service: 'shop',
  owners: { emails: ['owner@example.com'], group: 'team-shop' },
  environments: ['dev', 'staging', 'prod'],
  platformApiUrl: 'https://deploy.example.com',
  imageRepository: 'registry.localhost/retail/shop',
  routeHost: 'shop.retail.apps.example.com',
};

const snapshotFile = join(__dirname, '__snapshots__', 'skeletons.json');
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('project templates', () => {
  for (const projectClass of PROJECT_CLASSES) {
    it(`when the ${projectClass} template is rendered for a project, then its pipelines build, scan, pin the digest and deploy with the project token`, () => {
      const { manifest } = loadProjectTemplate(projectClass);
      assert.equal(manifest.name, projectClass);
      const { files } = renderProjectSkeleton(projectClass, context);
      for (const path of ['README.md', 'Dockerfile', '.gitignore', 'scripts/deploy-to-platform.sh', ...manifest.pipelines]) assert.ok(files[path], `${path} exists`);
      const workflow = parse(files['.github/workflows/deploy.yml']!) as { jobs: Record<string, { needs?: string[] }> };
      assert.deepEqual(Object.keys(workflow.jobs), ['build', 'deploy-dev', 'deploy-staging', 'deploy-prod']);
      assert.deepEqual(workflow.jobs['deploy-prod']?.needs, ['build', 'deploy-staging']);
      for (const pipeline of [files.Jenkinsfile!, files['.github/workflows/deploy.yml']!]) {
        assert.match(pipeline, /trivy image --format json --output trivy-report\.json/);
        assert.match(pipeline, /RepoDigests/, 'resolves the pushed digest');
        assert.match(pipeline, /PLATFORM_TOKEN/);
        assert.match(pipeline, /scripts\/deploy-to-platform\.sh prod/);
        assert.match(pipeline, /registry\.localhost\/retail\/shop/);
      }
      const script = files['scripts/deploy-to-platform.sh']!;
      assert.match(script, /^API="https:\/\/deploy\.example\.com"$/m);
      assert.match(script, /-X POST "\$API\/v1\/deployments"/);
      assert.match(script, /--arg project "shop"/);
      assert.match(script, /scanReport: \$scan\[0\]/);
      assert.match(script, /PLATFORM_TOKEN:\?/);
      const all = Object.values(files).join('\n');
      assert.doesNotMatch(all, /(dev-ci-|ci-shop-)[A-Za-z0-9_-]{20,}/, 'no literal token');
      assert.ok(all.includes(manifest.defaults.probes.readinessPath), 'health endpoint');
      assert.match(files.Dockerfile!, new RegExp(`EXPOSE ${manifest.defaults.port}`));
      assert.match(files.Dockerfile!, /^USER /m, 'runs as non-root');
    });
  }

  it('when the skeletons are rendered, then they match the committed snapshot (UPDATE_SNAPSHOTS=1 to accept a change)', () => {
    const actual = Object.fromEntries(
      PROJECT_CLASSES.map((projectClass) => {
        const { files } = renderProjectSkeleton(projectClass, context);
        const digest = createHash('sha256');
        for (const path of Object.keys(files).sort()) digest.update(`${path}\0${files[path]}\0`);
        return [projectClass, { files: Object.keys(files).sort(), sha256: digest.digest('hex') }];
      }),
    );
    if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(snapshotFile, `${JSON.stringify(actual, null, 2)}\n`);
    assert.ok(existsSync(snapshotFile), `no snapshot at ${snapshotFile}: run UPDATE_SNAPSHOTS=1 npx tsx --test test/templates/templates.test.ts`);
    assert.deepEqual(actual, JSON.parse(readFileSync(snapshotFile, 'utf8')));
  });

  it('when the context lacks a variable a template uses, then rendering fails naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'templates-'));
    dirs.push(dir);
    cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'node-web', 'skeleton', 'NOTES.md.hbs'), 'Owner: {{ownerName}}\n');
    assert.throws(() => renderProjectSkeleton('node-web', context, dir), /node-web\/skeleton\/NOTES\.md: "ownerName" not defined/);
  });

  it('when a manifest is broken, then loading names the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'templates-'));
    dirs.push(dir);
    cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true });
    const manifest = join(dir, 'java', 'template.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('  port: 8080\n', '').replace('language: java', 'language: java\ncolour: blue'));
    assert.throws(() => loadProjectTemplate('java', dir), (error: unknown) => /defaults\.port/.test(String(error)) && /colour/.test(String(error)));
  });

  it('when the class is unknown or the context is invalid, then rendering refuses', () => {
    assert.throws(() => renderProjectSkeleton('cobol', context), /unknown project class "cobol"/);
    assert.throws(() => renderProjectSkeleton('java', { ...context, owners: { emails: ['not-an-email'], group: 'g' } }), /email/i);
  });
});
