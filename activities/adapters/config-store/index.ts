/** The landing zone's view of the configuration hierarchy: the project scope of the platform store. */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../shared/errors';
import { InvalidEntryError, type ConfigurationRepository, type EntryContent } from '../../../shared/store';
import type { ProjectConfigurationEntry } from '../../ports/project-configuration';
import type { ProjectConfiguration } from '../../ports/project-configuration';

function contentOf(entry: ProjectConfigurationEntry): EntryContent {
  if ((entry.value === undefined) === (entry.secretRef === undefined)) {
    throw ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message: `entry ${entry.key} needs exactly one of value or secretRef` });
  }
  return entry.secretRef !== undefined ? { secretRef: entry.secretRef } : { value: entry.value ?? '' };
}

export function createStoreProjectConfiguration(repository: ConfigurationRepository): ProjectConfiguration {
  return {
    async writeProjectEntries(tenant, project, entries, updatedBy) {
      try {
        repository.upsertMany(
          entries.map((entry) => ({
            location: { scope: 'project', tenant, project, environment: entry.environment, key: entry.key },
            content: contentOf(entry),
          })),
          updatedBy,
        );
      } catch (error) {
        // A refused entry fails the same way on every attempt: retrying would only delay the rollback.
        if (error instanceof InvalidEntryError) {
          throw ApplicationFailure.create({ type: ErrorType.ConfigurationInvalid, nonRetryable: true, message: error.message });
        }
        throw error;
      }
      return entries.map((entry) => (entry.environment ? `${entry.key}@${entry.environment}` : entry.key));
    },
    async deleteAllProjectEntries(tenant, project) {
      return repository.deleteProject(tenant, project);
    },
    async deleteProjectEntries(tenant, project, entries) {
      repository.deleteMany(entries.map((entry) => ({ scope: 'project', tenant, project, environment: entry.environment, key: entry.key })));
    },
  };
}
