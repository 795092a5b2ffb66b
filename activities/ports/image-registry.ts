/** Where a project's images live: Amazon ECR later, a local record by default. */
export interface EnsureRepositoryRequest {
  /** `<tenant>/<project>`. */
  name: string;
  immutableTags: boolean;
  scanOnPush: boolean;
  lifecyclePolicy?: { keepLastImages: number };
  tags: Record<string, string>;
  /** Unique per run and step; ensuring twice with the same key creates once. */
  idempotencyKey: string;
}

export interface ImageRegistry {
  ensureRepository(request: EnsureRepositoryRequest): Promise<{ name: string; uri: string; created: boolean }>;
  /**
   * No-op when absent. Without `force`, refuses (non-retryable) while the repository holds images.
   * With `onlyIfCreatedBy` (an undo), deletes only a repository that ensureRepository created
   * with that idempotency key: one that existed before the run is never removed by its undo.
   */
  deleteRepository(request: { name: string; force: boolean; onlyIfCreatedBy?: string }): Promise<{ deleted: boolean }>;
}
