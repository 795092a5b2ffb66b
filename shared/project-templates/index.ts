/**
 * Project classes as data: `templates/<class>/template.yaml` (validated below) plus a `skeleton/`
 * of Handlebars files, with the pipeline files shared as partials in `templates/_partials/`.
 * Rendering is strict: a variable the context lacks is an error, never an empty string.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { z } from 'zod';

export const PROJECT_CLASSES = ['java', 'dotnet', 'node-web', 'python-backend', 'mobile-backend'] as const;
export type ProjectClass = (typeof PROJECT_CLASSES)[number];

/** `templates/` at the project root, seen from the sources (tsx) or from the compiled `dist/`. */
export const DEFAULT_TEMPLATES_DIR =
  [resolve(__dirname, '..', '..', 'templates'), resolve(__dirname, '..', '..', '..', 'templates')].find((dir) => existsSync(join(dir, '_partials'))) ??
  resolve(__dirname, '..', '..', 'templates');

const quantity = z.union([z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/), z.number()]).transform(String);

export const templateManifestSchema = z.strictObject({
  apiVersion: z.literal('platform.example.com/v1'),
  kind: z.literal('ProjectTemplate'),
  name: z.string().regex(/^[a-z][-a-z0-9]*$/),
  title: z.string().min(1),
  description: z.string().min(1),
  language: z.string().min(1),
  build: z.strictObject({ testCommand: z.string().min(1), runInstructions: z.string().min(1) }),
  defaults: z.strictObject({
    port: z.number().int().min(1).max(65_535),
    probes: z.strictObject({ readinessPath: z.string().startsWith('/'), livenessPath: z.string().startsWith('/') }),
    resources: z.strictObject({
      requests: z.strictObject({ cpu: quantity, memory: quantity }),
      limits: z.strictObject({ cpu: quantity, memory: quantity }),
    }),
    quota: z.strictObject({ requestsCpu: quantity, requestsMemory: quantity, limitsCpu: quantity, limitsMemory: quantity, pods: z.number().int().min(1) }),
  }),
  pipelines: z.array(z.string().min(1)).min(1),
  parameters: z.array(z.string()),
});
export type TemplateManifest = z.infer<typeof templateManifestSchema>;

export const skeletonContextSchema = z.strictObject({
  project: z.string().regex(/^[a-z][-a-z0-9]*$/),
  tenant: z.string().regex(/^[a-z][-a-z0-9]*$/),
  service: z.string().regex(/^[a-z][-a-z0-9]*$/),
  owners: z.strictObject({ emails: z.array(z.email()).min(1), group: z.string().min(1) }),
  environments: z.array(z.string().regex(/^[a-z][-a-z0-9]*$/)).min(1),
  platformApiUrl: z.url(),
  imageRepository: z.string().min(1),
  routeHost: z.string().min(1),
  temporalUiUrl: z.url().optional(),
});
export type SkeletonContext = z.infer<typeof skeletonContextSchema>;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface ProjectTemplate {
  manifest: TemplateManifest;
  /** Skeleton files by their (still templated) path, without the .hbs suffix. */
  skeleton: Record<string, string>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadProjectTemplate(projectClass: string, templatesDir = DEFAULT_TEMPLATES_DIR): ProjectTemplate {
  if (!(PROJECT_CLASSES as readonly string[]).includes(projectClass)) {
    throw new TemplateError(`unknown project class "${projectClass}"; known: ${PROJECT_CLASSES.join(', ')}`);
  }
  const dir = join(templatesDir, projectClass);
  const parsed = templateManifestSchema.safeParse(parse(readFileSync(join(dir, 'template.yaml'), 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new TemplateError(`invalid ${projectClass}/template.yaml: ${problems.join('; ')}`);
  }
  const skeletonDir = join(dir, 'skeleton');
  const skeleton = Object.fromEntries(
    filesUnder(skeletonDir).map((file) => [relative(skeletonDir, file).split('\\').join('/').replace(/\.hbs$/, ''), readFileSync(file, 'utf8')]),
  );
  for (const pipeline of parsed.data.pipelines) {
    if (!(pipeline in skeleton)) throw new TemplateError(`${projectClass}: pipeline file ${pipeline} is not in the skeleton`);
  }
  return { manifest: parsed.data, skeleton };
}

export function listProjectTemplates(templatesDir = DEFAULT_TEMPLATES_DIR): TemplateManifest[] {
  return PROJECT_CLASSES.map((projectClass) => loadProjectTemplate(projectClass, templatesDir).manifest);
}

function engine(templatesDir: string): typeof Handlebars {
  const hbs = Handlebars.create();
  const partials = join(templatesDir, '_partials');
  for (const file of readdirSync(partials)) {
    if (file.endsWith('.hbs')) hbs.registerPartial(file.replace(/\.hbs$/, ''), readFileSync(join(partials, file), 'utf8'));
  }
  return hbs;
}

/** Values derived from the context that some languages need in names and paths. */
function derived(context: SkeletonContext, manifest: TemplateManifest) {
  const identifier = (text: string): string => text.replace(/[^a-z0-9]/g, '');
  const pascal = (text: string): string => text.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
  const javaPackage = `com.${identifier(context.tenant)}.${identifier(context.project)}`;
  return {
    title: manifest.title,
    port: manifest.defaults.port,
    readinessPath: manifest.defaults.probes.readinessPath,
    livenessPath: manifest.defaults.probes.livenessPath,
    testCommand: manifest.build.testCommand,
    javaPackage,
    javaPackagePath: javaPackage.split('.').join('/'),
    dotnetProject: pascal(context.service),
    tokenSecretHint: `the secret reference in the landing zone's notification`,
    deployStages: context.environments.map((name, index) => ({ name, previous: index > 0 ? context.environments[index - 1] : null, manual: index > 0 })),
  };
}

/** Renders a class's skeleton for one project: file contents (and paths) with the context filled in. */
export function renderProjectSkeleton(
  projectClass: string,
  rawContext: SkeletonContext,
  templatesDir = DEFAULT_TEMPLATES_DIR,
): { files: Record<string, string>; defaults: TemplateManifest['defaults'] } {
  const context = skeletonContextSchema.parse(rawContext);
  const { manifest, skeleton } = loadProjectTemplate(projectClass, templatesDir);
  const hbs = engine(templatesDir);
  const compile = (text: string) => hbs.compile(text, { strict: true, noEscape: true });
  const base = { ...context, ...derived(context, manifest) };
  const data = { ...base, runInstructions: compile(manifest.build.runInstructions)(base) };
  const files: Record<string, string> = {};
  for (const [path, text] of Object.entries(skeleton)) {
    try {
      files[compile(path)(data)] = compile(text)(data);
    } catch (error) {
      throw new TemplateError(`${projectClass}/skeleton/${path}: ${(error as Error).message}`);
    }
  }
  return { files, defaults: manifest.defaults };
}
