/**
 * Project classes as data: `templates/<class>/template.yaml` plus a `skeleton/` of Handlebars files
 * (pipelines shared as partials in `templates/_partials/`). See templates/README.md.
 */
export { PROJECT_CLASSES, isProjectClass, type ProjectClass } from './classes';
export { CONTEXT_VARIABLES, skeletonContextSchema, type SkeletonContext, type SkeletonContextInput } from './context';
export { DERIVED_VARIABLES, deployStagesOf, dotnetProjectOf, javaPackageOf, type DeployStage, type DerivedVariable } from './derived';
export { TemplateError } from './errors';
export { defaultTemplatesDir, listProjectTemplates, loadProjectTemplate, type ProjectTemplate } from './load';
export { TEMPLATE_VARIABLES, templateManifestSchema, type TemplateDefaults, type TemplateManifest } from './manifest';
export { renderProjectSkeleton, type RenderedSkeleton } from './render';
export { templateUsage, type TemplateUsage } from './usage';
