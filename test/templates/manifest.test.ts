/** template.yaml: every class's manifest validates, and a broken one fails naming what is wrong. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  defaultTemplatesDir,
  listProjectTemplates,
  loadProjectTemplate,
  PROJECT_CLASSES,
  templateManifestSchema,
  TemplateError,
} from '../../shared/project-templates';
import { scratchTemplates } from './fixtures';

function failsWith(action: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof TemplateError, `a TemplateError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

describe('project template manifests', () => {
  for (const projectClass of PROJECT_CLASSES) {
    it(`when the ${projectClass} template loads, then its template.yaml parses as YAML, validates and names its folder`, () => {
      const file = join(defaultTemplatesDir(), projectClass, 'template.yaml');
      const raw: unknown = parse(readFileSync(file, 'utf8'));
      const manifest = templateManifestSchema.parse(raw);
      assert.equal(manifest.name, projectClass);
      assert.deepEqual(loadProjectTemplate(projectClass).manifest, manifest);
      assert.deepEqual(manifest.pipelines, ['Jenkinsfile', '.github/workflows/deploy.yml']);
      assert.equal(manifest.defaults.probes.readinessPath, '/healthz');
    });
  }

  it('when all templates are listed, then there is one manifest per class, in class order', () => {
    assert.deepEqual(
      listProjectTemplates().map((manifest) => manifest.name),
      [...PROJECT_CLASSES],
    );
  });

  it('when the process runs from another folder, then the default templates folder is still the project root one', (t) => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'cwd-'));
    const previous = process.cwd();
    process.chdir(elsewhere);
    t.after(() => {
      process.chdir(previous);
      rmSync(elsewhere, { recursive: true, force: true });
    });
    assert.equal(defaultTemplatesDir(), resolve(__dirname, '..', '..', 'templates'));
    assert.equal(loadProjectTemplate('java').manifest.name, 'java');
  });

  it('when the class is unknown, then loading fails listing the known classes', () => {
    failsWith(() => loadProjectTemplate('cobol'), /unknown project class "cobol"/, /java, dotnet, node-web, python-backend, mobile-backend/);
  });

  describe('when a manifest is broken', () => {
    let dir = '';
    let cleanup = (): void => {};
    before(() => ({ dir, cleanup } = scratchTemplates()));
    after(() => cleanup());

    /** Rewrites java/template.yaml in the scratch copy for one test, then puts it back. */
    function withJavaManifest(edit: (text: string) => string, check: () => void): void {
      const file = join(dir, 'java', 'template.yaml');
      const original = readFileSync(file, 'utf8');
      writeFileSync(file, edit(original));
      try {
        check();
      } finally {
        writeFileSync(file, original);
      }
    }

    it('when defaults.port is missing, then loading fails naming defaults.port', () => {
      withJavaManifest(
        (text) => text.replace('  port: 8080\n', ''),
        () => failsWith(() => loadProjectTemplate('java', dir), /java\/template\.yaml is invalid/, /defaults\.port: /),
      );
    });

    it('when there is an unknown top-level key, then loading fails naming the key', () => {
      withJavaManifest(
        (text) => text.replace('language: java\n', 'language: java\ncolour: blue\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /"colour"/),
      );
    });

    it('when there is an unknown nested key, then loading fails naming its parent and the key', () => {
      withJavaManifest(
        (text) => text.replace('    livenessPath: /healthz\n', '    livenessPath: /healthz\n    startupPath: /healthz\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /defaults\.probes: /, /"startupPath"/),
      );
    });

    it('when a quantity is not a Kubernetes quantity, then loading fails naming the field', () => {
      withJavaManifest(
        (text) => text.replace('requestsMemory: 8Gi', 'requestsMemory: eight gigs'),
        () => failsWith(() => loadProjectTemplate('java', dir), /defaults\.quota\.requestsMemory: must be a Kubernetes quantity/),
      );
    });

    it('when the name is not the folder name, then loading fails naming name', () => {
      withJavaManifest(
        (text) => text.replace('name: java\n', 'name: kotlin\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /name: must be "java"/),
      );
    });

    it('when a listed pipeline file is not in the skeleton, then loading fails naming it', () => {
      withJavaManifest(
        (text) => text.replace('  - Jenkinsfile\n', '  - Jenkinsfile\n  - .gitlab-ci.yml\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /pipelines: \.gitlab-ci\.yml is not in the skeleton/),
      );
    });

    it('when parameters lists an unknown variable, then loading fails naming the entry', () => {
      withJavaManifest(
        (text) => text.replace('  - project\n', '  - project\n  - colour\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /parameters\.1: /),
      );
    });

    it('when parameters lists a variable no skeleton file uses, then loading fails naming it', () => {
      withJavaManifest(
        (text) => text.replace('  - project\n', '  - project\n  - dotnetProject\n'),
        () => failsWith(() => loadProjectTemplate('java', dir), /parameters no skeleton file uses: dotnetProject/),
      );
    });

    it('when a skeleton file uses a variable parameters does not list, then loading fails naming the file and the variable', () => {
      withJavaManifest(
        (text) => text.replace('  - javaPackagePath\n', ''),
        () => failsWith(() => loadProjectTemplate('java', dir), /java\/skeleton\/src\/.*\{\{javaPackagePath\}\}.* uses "javaPackagePath", which parameters in template\.yaml does not list/),
      );
    });

    it('when template.yaml is not YAML, then loading fails saying so', () => {
      withJavaManifest(
        () => 'apiVersion: [unclosed\n',
        () => failsWith(() => loadProjectTemplate('java', dir), /java\/template\.yaml is not valid YAML/),
      );
    });

    it('when a skeleton file lacks the .hbs suffix, then loading fails naming it', () => {
      const plain = join(dir, 'java', 'skeleton', 'NOTICE');
      writeFileSync(plain, 'plain\n');
      try {
        failsWith(() => loadProjectTemplate('java', dir), /java\/skeleton\/NOTICE: skeleton files must end in \.hbs/);
      } finally {
        rmSync(plain);
      }
    });

    it('when a skeleton block uses a misspelt list (which strict mode alone would render as nothing), then loading fails naming it', () => {
      const file = join(dir, 'java', 'skeleton', 'README.md.hbs');
      const original = readFileSync(file, 'utf8');
      writeFileSync(file, `${original}{{#each enviroments}}- {{this}}\n{{/each}}`);
      try {
        failsWith(() => loadProjectTemplate('java', dir), /README\.md\.hbs uses "enviroments"/);
      } finally {
        writeFileSync(file, original);
      }
    });

    it('when a skeleton includes a partial that does not exist, then loading fails naming both', () => {
      const partials = join(dir, '_partials');
      renameSync(join(partials, 'jenkinsfile.hbs'), join(partials, 'jenkinsfile.hbs.off'));
      try {
        failsWith(() => loadProjectTemplate('java', dir), /java\/skeleton\/Jenkinsfile\.hbs \(content\): unknown partial "jenkinsfile"/);
      } finally {
        renameSync(join(partials, 'jenkinsfile.hbs.off'), join(partials, 'jenkinsfile.hbs'));
      }
    });
  });
});
