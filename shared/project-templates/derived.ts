/**
 * Variables computed from the context and the manifest, so templates stay free of logic and every
 * language gets names it accepts. Each is listed in DERIVED_VARIABLES and may appear in a manifest's
 * `parameters`.
 */
import type { SkeletonContext } from './context';
import type { TemplateManifest } from './manifest';

export const DERIVED_VARIABLES = [
  /** manifest.title */
  'title',
  /** manifest.defaults.port: the port the app listens on and the Dockerfile exposes */
  'port',
  /** manifest.defaults.probes.readinessPath / livenessPath: the app's health endpoint(s) */
  'readinessPath',
  'livenessPath',
  /** `com.<tenant>.<project>` as a valid Java package (see javaPackageOf) */
  'javaPackage',
  /** the same with slashes, for `src/main/java/{{javaPackagePath}}/…` */
  'javaPackagePath',
  /** the service in PascalCase: the .NET project, assembly and root namespace */
  'dotnetProject',
  /** one entry per environment, in order: `{ name, previous, manual }` */
  'deployStages',
] as const;
export type DerivedVariable = (typeof DERIVED_VARIABLES)[number];

export interface DeployStage {
  name: string;
  /** The environment deployed just before this one (the stage waits for it); null for the first. */
  previous: string | null;
  /** Every environment after the first waits for a person (Jenkins input, GitHub environment reviewers). */
  manual: boolean;
}

// JLS 3.9 keywords and literals: a package segment may not be one of them.
const JAVA_RESERVED = new Set(
  (
    'abstract assert boolean break byte case catch char class const continue default do double else enum extends final ' +
    'finally float for goto if implements import instanceof int interface long native new package private protected ' +
    'public return short static strictfp super switch synchronized this throw throws transient try void volatile while ' +
    '_ true false null var record yield sealed permits'
  ).split(' '),
);

/**
 * `com.<tenant>.<project>`, following the JLS naming convention for names that are not valid
 * identifiers: a hyphen becomes an underscore, a keyword gets a trailing underscore. DNS labels
 * start with a letter, so no segment starts with a digit.
 */
export function javaPackageOf(tenant: string, project: string): string {
  const segment = (label: string): string => {
    const name = label.replace(/-/g, '_');
    return JAVA_RESERVED.has(name) ? `${name}_` : name;
  };
  return ['com', segment(tenant), segment(project)].join('.');
}

/** `shop-api` → `ShopApi`: a C# identifier, since a DNS label starts with a letter. */
export function dotnetProjectOf(service: string): string {
  return service
    .split('-')
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function deployStagesOf(environments: readonly string[]): DeployStage[] {
  return environments.map((name, index) => ({ name, previous: environments[index - 1] ?? null, manual: index > 0 }));
}

export function deriveVariables(context: SkeletonContext, manifest: TemplateManifest): Record<DerivedVariable, unknown> {
  const javaPackage = javaPackageOf(context.tenant, context.project);
  return {
    title: manifest.title,
    port: manifest.defaults.port,
    readinessPath: manifest.defaults.probes.readinessPath,
    livenessPath: manifest.defaults.probes.livenessPath,
    javaPackage,
    javaPackagePath: javaPackage.split('.').join('/'),
    dotnetProject: dotnetProjectOf(context.service),
    deployStages: deployStagesOf(context.environments),
  };
}
