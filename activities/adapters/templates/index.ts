/** The built-in project templates (templates/ in this repository) behind the ProjectTemplates port. */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import { renderProjectSkeleton } from '../../../shared/project-templates';
import type { ProjectTemplates } from '../../ports/project-templates';

export function createBuiltinProjectTemplates(templatesDir?: string): ProjectTemplates {
  return {
    async renderSkeleton(projectClass, context) {
      try {
        return { files: renderProjectSkeleton(projectClass, context, templatesDir).files };
      } catch (error) {
        // Rendering is deterministic: what fails once fails on every retry.
        throw ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message: `cannot render the ${projectClass} template: ${(error as Error).message}` });
      }
    },
  };
}
