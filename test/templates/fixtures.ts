/** Shared by the template tests: a sample context, each class's app files, and scratch copies of templates/. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplatesDir, type ProjectClass, type SkeletonContextInput } from '../../shared/project-templates';

/** What the landing zone would pass for project `shop` of tenant `retail` (service defaults to the project). */
export const sampleContext: SkeletonContextInput = {
  project: 'shop',
  tenant: 'retail',
  owners: { emails: ['owner@example.com', 'second@example.com'], group: 'team-shop' },
  environments: ['dev', 'staging', 'prod'],
  platformApiUrl: 'https://deploy.example.com',
  imageRepository: 'registry.example.com/retail/shop',
  routeHost: 'shop.retail.apps.example.com',
  temporalUiUrl: 'https://temporal.example.com',
};

/** The files that make up each class's app (for the sample context): the health endpoint and the port live here. */
export const appFiles: Record<ProjectClass, string[]> = {
  java: ['src/main/java/com/retail/shop/Application.java', 'src/main/resources/application.properties'],
  dotnet: ['src/Shop/Program.cs'],
  'node-web': ['src/app.js', 'src/server.js'],
  'python-backend': ['app/main.py'],
  'mobile-backend': ['src/app.js', 'src/server.js'],
};

export const PIPELINE_FILES = ['Jenkinsfile', '.github/workflows/deploy.yml'] as const;

/** A scratch copy of templates/ to break on purpose; removed by the returned cleanup. */
export function scratchTemplates(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'project-templates-'));
  cpSync(defaultTemplatesDir(), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
