/** Renders a project class's repository skeleton (README, Dockerfile, app, pipeline files). */
export interface SkeletonContext {
  project: string;
  tenant: string;
  service: string;
  owners: { emails: string[]; group: string };
  environments: string[];
  platformApiUrl: string;
  imageRepository: string;
  routeHost: string;
  temporalUiUrl?: string;
}

export interface ProjectTemplates {
  /** Files by path; fails non-retryably for an unknown class or a context the template cannot use. */
  renderSkeleton(projectClass: string, context: SkeletonContext): Promise<{ files: Record<string, string> }>;
}
