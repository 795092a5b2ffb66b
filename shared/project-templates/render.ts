/** Rendering a class's skeleton for one project: every path and file through Handlebars, strictly. */
import { posix } from 'node:path';
import { skeletonContextSchema, type SkeletonContextInput } from './context';
import { deriveVariables } from './derived';
import { COMPILE_OPTIONS, createEngine } from './engine';
import { describeIssues, TemplateError } from './errors';
import { loadProjectTemplate } from './load';
import type { TemplateDefaults } from './manifest';

export interface RenderedSkeleton {
  /** File contents by repository path, sorted by path. None needs to be executable. */
  files: Record<string, string>;
  /** The class's defaults (port, probes, resources, quota) for the landing zone. */
  defaults: TemplateDefaults;
}

function isSafeRelativePath(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && posix.normalize(path) === path && !path.split('/').includes('..');
}

export function renderProjectSkeleton(projectClass: string, context: SkeletonContextInput, templatesDir?: string): RenderedSkeleton {
  const parsed = skeletonContextSchema.safeParse(context);
  if (!parsed.success) throw new TemplateError(`invalid context for the ${projectClass} template: ${describeIssues(parsed.error.issues)}`);
  const { manifest, skeleton, partials } = loadProjectTemplate(projectClass, templatesDir);
  const engine = createEngine(partials);
  const data = { ...parsed.data, ...deriveVariables(parsed.data, manifest) };

  const files: Record<string, string> = {};
  for (const [templatePath, source] of Object.entries(skeleton)) {
    let path: string;
    try {
      path = engine.compile(templatePath, COMPILE_OPTIONS)(data);
      if (!isSafeRelativePath(path)) throw new Error(`renders to "${path}", which is not a relative path inside the repository`);
      if (path in files) throw new Error(`renders to "${path}", which another skeleton file renders to as well`);
      files[path] = engine.compile(source, COMPILE_OPTIONS)(data);
    } catch (error) {
      if (error instanceof TemplateError) throw error;
      throw new TemplateError(`${projectClass}/skeleton/${templatePath}.hbs: ${(error as Error).message}`);
    }
  }
  const sorted = Object.fromEntries(Object.keys(files).sort().map((path) => [path, files[path]!]));
  return { files: sorted, defaults: manifest.defaults };
}
