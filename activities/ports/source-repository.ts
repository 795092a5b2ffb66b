/** Source repositories a landing zone creates from its class template. */
export interface CreateSourceRepositoryRequest {
  /** `<tenant>/<project>`. */
  name: string;
  /** Paths relative to the repository root. */
  files: Record<string, string>;
  initialCommit: { message: string; author: { name: string; email: string } };
  /** Unique per run and step; creating twice with the same key creates once. */
  idempotencyKey: string;
}

export interface SourceRepository {
  create(request: CreateSourceRepositoryRequest): Promise<{ name: string; cloneUrl: string; defaultBranch: string; head: string; created: boolean }>;
  /** No-op when absent. */
  delete(request: { name: string }): Promise<{ deleted: boolean }>;
  /**
   * Takes the repository out of service but keeps its history (a decommissioned project's code is
   * evidence). Idempotent by key: a retry reports the same archive.
   */
  archive(request: { name: string; idempotencyKey: string }): Promise<{ archived: boolean; location?: string }>;
}
