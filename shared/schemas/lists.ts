/** Query parameters of the list endpoints (`GET /v1/deployments`, `GET /v1/landing-zones`, `…/runs`). */
import { z } from 'zod';
import { DEPLOY_STAGES } from '../contracts/deploy';
import { RUN_STATUSES } from '../contracts/run';

const label = z.string().regex(/^[a-z][-a-z0-9]{0,62}$/, 'must be a DNS label (lower-case letters, digits, -)');

/** Paging shared by every list: at most `limit` items, then `nextCursor` for the next page. */
const paging = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(4096).optional(),
};

export const deploymentListQuerySchema = z.strictObject({
  project: label.optional(),
  service: label.optional(),
  environment: label.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  stage: z.enum([...DEPLOY_STAGES, 'compensate', 'done']).optional(),
  changeNumber: z.string().regex(/^[A-Z]{2,5}[0-9]{5,12}$/, 'must be a change number such as CHG0030001').optional(),
  ...paging,
});
export type DeploymentListQuery = z.infer<typeof deploymentListQuerySchema>;

export const landingZoneListQuerySchema = z.strictObject({
  tenant: label.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  ...paging,
});
export type LandingZoneListQuery = z.infer<typeof landingZoneListQuerySchema>;

export const runListQuerySchema = z.strictObject(paging);
export type RunListQuery = z.infer<typeof runListQuerySchema>;
