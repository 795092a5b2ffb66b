/**
 * Custom search attributes the platform writes, so operators can filter runs in the Temporal UI.
 * Search attributes are NOT encrypted by payload codecs: never put secrets in them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DeployProject = defineSearchAttributeKey('DeployProject', SearchAttributeType.KEYWORD);
export const DeployService = defineSearchAttributeKey('DeployService', SearchAttributeType.KEYWORD);
export const DeployEnvironment = defineSearchAttributeKey('DeployEnvironment', SearchAttributeType.KEYWORD);
export const DeployStage = defineSearchAttributeKey('DeployStage', SearchAttributeType.KEYWORD);
export const DeployStatus = defineSearchAttributeKey('DeployStatus', SearchAttributeType.KEYWORD);
export const ChangeNumber = defineSearchAttributeKey('ChangeNumber', SearchAttributeType.KEYWORD);
/** sha256 of the caller's Idempotency-Key header (the key itself is never stored). */
export const DeployIdempotencyKey = defineSearchAttributeKey('DeployIdempotencyKey', SearchAttributeType.KEYWORD);

/** Every custom attribute with its type, as the Temporal CLI's `--search-attribute` takes them. */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  [DeployProject.name]: 'Keyword',
  [DeployService.name]: 'Keyword',
  [DeployEnvironment.name]: 'Keyword',
  [DeployStage.name]: 'Keyword',
  [DeployStatus.name]: 'Keyword',
  [ChangeNumber.name]: 'Keyword',
  [DeployIdempotencyKey.name]: 'Keyword',
};
