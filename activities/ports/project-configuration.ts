/** The project scope of the configuration hierarchy, as a landing zone writes it. */
export interface ProjectConfigurationEntry {
  key: string;
  value?: string;
  /** A reference to a secret (e.g. `vault://…`), never a secret value. */
  secretRef?: string;
  /** Absent: applies to every environment. */
  environment?: string;
}

export interface ProjectConfiguration {
  /** Upserts the entries in one transaction; returns the keys written. */
  writeProjectEntries(tenant: string, project: string, entries: ProjectConfigurationEntry[], updatedBy: string): Promise<string[]>;
  /** Deletes the entries (absent ones are ignored) in one transaction. */
  deleteProjectEntries(tenant: string, project: string, entries: Pick<ProjectConfigurationEntry, 'key' | 'environment'>[]): Promise<void>;
  /** Deletes every project-scope entry of the project, whoever wrote it; returns how many. */
  deleteAllProjectEntries(tenant: string, project: string): Promise<number>;
}
