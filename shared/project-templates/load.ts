/**
 * Loading a project class from disk: `templates/<class>/template.yaml` (validated), its `skeleton/`
 * (every file a Handlebars template ending in `.hbs`), and the shared `templates/_partials/`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import { isProjectClass, PROJECT_CLASSES } from './classes';
import { describeIssues, TemplateError } from './errors';
import { templateManifestSchema, type TemplateManifest } from './manifest';
import { templateUsage } from './usage';

export const PARTIALS_DIR = '_partials';
const TEMPLATE_SUFFIX = '.hbs';

export interface ProjectTemplate {
  manifest: TemplateManifest;
  /**
   * Skeleton files by their still templated path with `.hbs` removed
   * (`src/main/java/{{javaPackagePath}}/Application.java`), each with its template source.
   */
  skeleton: Record<string, string>;
  /** The shared partials (`{{> jenkinsfile}}`) by name. */
  partials: Record<string, string>;
}

/**
 * `<project root>/templates`, the project root being the nearest folder above this file with a
 * package.json: the same from the sources (tsx) and from the compiled `dist/`, whatever the cwd.
 */
export function defaultTemplatesDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'templates');
    if (dirname(dir) === dir) throw new TemplateError(`no package.json above ${__dirname}: cannot find the templates folder`);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadPartials(templatesDir: string): Record<string, string> {
  const dir = join(templatesDir, PARTIALS_DIR);
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((name) => name.endsWith(TEMPLATE_SUFFIX))
      .sort()
      .map((name) => [name.slice(0, -TEMPLATE_SUFFIX.length), readFileSync(join(dir, name), 'utf8')]),
  );
}

function readManifest(projectClass: string, file: string): TemplateManifest {
  if (!existsSync(file)) throw new TemplateError(`${projectClass}: no template.yaml at ${file}`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TemplateError(`${projectClass}/template.yaml is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = templateManifestSchema.safeParse(raw);
  if (!parsed.success) throw new TemplateError(`${projectClass}/template.yaml is invalid: ${describeIssues(parsed.error.issues)}`);
  if (parsed.data.name !== projectClass) throw new TemplateError(`${projectClass}/template.yaml is invalid: name: must be "${projectClass}" (the folder name)`);
  return parsed.data;
}

function readSkeleton(projectClass: string, dir: string): Record<string, string> {
  if (!existsSync(dir)) throw new TemplateError(`${projectClass}: no skeleton/ folder at ${dir}`);
  const skeleton: Record<string, string> = {};
  for (const file of filesUnder(dir).sort()) {
    const path = relative(dir, file).split(sep).join('/');
    // Every file is a template, and the suffix keeps a skeleton's `.gitignore` or workflow from
    // acting on this repository.
    if (!path.endsWith(TEMPLATE_SUFFIX)) throw new TemplateError(`${projectClass}/skeleton/${path}: skeleton files must end in ${TEMPLATE_SUFFIX}`);
    skeleton[path.slice(0, -TEMPLATE_SUFFIX.length)] = readFileSync(file, 'utf8');
  }
  return skeleton;
}

/** The manifest's `parameters` must be exactly the variables the skeleton (and its partials) use. */
function checkParameters(projectClass: string, manifest: TemplateManifest, skeleton: Record<string, string>, partials: Record<string, string>): void {
  const declared = new Set<string>(manifest.parameters);
  const used = new Set<string>();
  for (const [path, source] of Object.entries(skeleton)) {
    for (const [what, text] of [['path', path], ['content', source]] as const) {
      let variables: Set<string>;
      try {
        variables = templateUsage(text, partials).variables;
      } catch (error) {
        throw new TemplateError(`${projectClass}/skeleton/${path}${TEMPLATE_SUFFIX} (${what}): ${(error as Error).message}`);
      }
      for (const variable of variables) {
        if (!declared.has(variable)) {
          throw new TemplateError(`${projectClass}/skeleton/${path}${TEMPLATE_SUFFIX} uses "${variable}", which parameters in template.yaml does not list`);
        }
        used.add(variable);
      }
    }
  }
  const unused = manifest.parameters.filter((name) => !used.has(name));
  if (unused.length > 0) throw new TemplateError(`${projectClass}/template.yaml lists parameters no skeleton file uses: ${unused.join(', ')}`);
}

export function loadProjectTemplate(projectClass: string, templatesDir: string = defaultTemplatesDir()): ProjectTemplate {
  if (!isProjectClass(projectClass)) throw new TemplateError(`unknown project class "${projectClass}"; known: ${PROJECT_CLASSES.join(', ')}`);
  const dir = join(templatesDir, projectClass);
  const manifest = readManifest(projectClass, join(dir, 'template.yaml'));
  const skeleton = readSkeleton(projectClass, join(dir, 'skeleton'));
  const partials = loadPartials(templatesDir);
  for (const pipeline of manifest.pipelines) {
    if (!(pipeline in skeleton)) throw new TemplateError(`${projectClass}/template.yaml: pipelines: ${pipeline} is not in the skeleton (expected skeleton/${pipeline}${TEMPLATE_SUFFIX})`);
  }
  checkParameters(projectClass, manifest, skeleton, partials);
  return { manifest, skeleton, partials };
}

/** Every class's manifest, in PROJECT_CLASSES order; fails on the first broken one. */
export function listProjectTemplates(templatesDir: string = defaultTemplatesDir()): TemplateManifest[] {
  return PROJECT_CLASSES.map((projectClass) => loadProjectTemplate(projectClass, templatesDir).manifest);
}
