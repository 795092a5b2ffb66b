/** Reading rendered pipeline files the way their CI systems would, for the tests. */
import { parse } from 'yaml';

export interface WorkflowStep {
  name?: string;
  uses?: string;
  with?: Record<string, string | number>;
  run?: string;
  env?: Record<string, string>;
}

export interface WorkflowJob {
  needs?: string[];
  environment?: string;
  env?: Record<string, string>;
  steps: WorkflowStep[];
}

export interface Workflow {
  on: { push?: { branches?: string[] } };
  permissions?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

export function githubWorkflow(text: string): Workflow {
  // The shape is asserted by the tests that read it; a wrong shape fails them with a clear diff.
  return parse(text) as Workflow;
}

export interface JenkinsShellBlock {
  /** As written between the ''' quotes. */
  raw: string;
  /** What the shell receives: Groovy drops a backslash-newline, and the agent strips nothing else. */
  shell: string;
}

export function jenkinsShellBlocks(jenkinsfile: string): JenkinsShellBlock[] {
  return [...jenkinsfile.matchAll(/sh '''\n([\s\S]*?)\n\s*'''/g)].map((match) => {
    const raw = match[1]!;
    return { raw, shell: raw.replace(/\\\n/g, '') };
  });
}
