export { createGitOpsClusterTarget, type GitOpsClusterTargetOptions } from './target';
export { GitCommandError } from './git';
