/**
 * Writes the audit log from where actions happen: a route wraps the action in `audit.action(...)`,
 * which records one entry once the action has answered (accepted or duplicate, with the run it
 * started or found) or thrown (refused with the 4xx it became, failed with the 5xx). The entry is
 * written before the next request is read, so a caller that reads `GET /v1/audit` after its answer
 * finds it. An entry that cannot be written is logged as an error; the answer stands (the action
 * has happened).
 */
import type { Request, Response } from 'express';
import type { Logger } from '../shared/logger';
import type { AuditAction, AuditChannel, AuditOutcome, AuditRepository, AuditTarget } from '../shared/store';
import { principalOf } from './auth';
import { HttpError } from './errors';
import { requestIdOf } from './request-id';
import { isTemporalUnreachable } from './temporal-runs';

/** What the action tells the log about itself while it runs. */
export interface AuditNote {
  /** The run it started, found or acted on. */
  run(workflowId: string, runId?: string): void;
  /** Nothing new was done: an idempotent repeat, an open run returned, nothing to change. */
  duplicate(): void;
  /** Names learned while acting (e.g. the tenant of a landing zone). */
  target(more: AuditTarget): void;
}

export interface AuditWho {
  /** The actor; the authenticated principal's subject by default. */
  actor?: string;
  channel?: AuditChannel;
}

/** `platformctl` when the User-Agent says so, `api` otherwise. */
export function channelOf(req: Request): AuditChannel {
  return /^platformctl(\/|\s|$)/i.test(req.get('user-agent') ?? '') ? 'platformctl' : 'api';
}

/** The status an error will be answered with (see problemHandler). */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (isTemporalUnreachable(error)) return 503;
  return 500;
}

export class Audit {
  constructor(
    private readonly log: AuditRepository,
    private readonly logger: Logger,
  ) {}

  /** Runs `work` (which answers the request) and records what came of it. */
  async action<T>(req: Request, res: Response, action: AuditAction, target: AuditTarget, work: (note: AuditNote) => Promise<T> | T, who: AuditWho = {}): Promise<T> {
    const found: { workflowId?: string; runId?: string; duplicate: boolean; target: AuditTarget } = { duplicate: false, target: { ...target } };
    const note: AuditNote = {
      run: (workflowId, runId) => {
        found.workflowId = workflowId;
        if (runId !== undefined) found.runId = runId;
      },
      duplicate: () => {
        found.duplicate = true;
      },
      target: (more) => {
        found.target = { ...found.target, ...more };
      },
    };
    const write = (outcome: AuditOutcome, status: number): void => {
      try {
        this.log.append({
          requestId: requestIdOf(res),
          actor: who.actor ?? principalOf(res).subject,
          action,
          target: found.target,
          ...(found.workflowId !== undefined ? { workflowId: found.workflowId } : {}),
          ...(found.runId !== undefined ? { runId: found.runId } : {}),
          outcome,
          status,
          channel: who.channel ?? channelOf(req),
        });
      } catch (error) {
        this.logger.error('audit entry not written', { action, requestId: requestIdOf(res), error: error instanceof Error ? error.message : String(error) });
      }
    };
    let result: T;
    try {
      result = await work(note);
    } catch (error) {
      const status = statusOf(error);
      write(status < 500 ? 'refused' : 'failed', status);
      throw error;
    }
    write(found.duplicate ? 'duplicate' : 'accepted', res.statusCode);
    return result;
  }
}
