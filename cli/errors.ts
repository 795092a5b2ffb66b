/**
 * Exit codes and the errors that carry them. Every way the CLI can end is one of these codes, so a
 * pipeline can tell "the deployment failed" (1) from "the request was wrong" (2) from "the platform
 * could not be reached" (3) from "it is still running" (4).
 */

export const ExitCode = {
  /** Done; with --wait: the run succeeded. */
  ok: 0,
  /** With --wait: the run ended failed, rejected, expired, rolled_back or cancelled. */
  runFailed: 1,
  /** A usage error (nothing was sent), or the API refused the request (4xx). */
  usage: 2,
  /** The API could not be reached, or failed (5xx). */
  unavailable: 3,
  /** With --wait: the run had not ended when --timeout passed (it goes on). */
  timeout: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** More lines printed under the message (field errors, hints). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** Wrong or missing arguments: found before any request is sent. */
export class UsageError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, ExitCode.usage, details);
  }
}

/** The API could not be reached (connection refused, DNS, timeout) or did not answer JSON. */
export class ConnectionError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.unavailable);
  }
}

/** An RFC 9457 problem body, as the API sends it (`application/problem+json`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: { field: string; message: string }[];
  /** Extension members, e.g. `deploymentId` of a 409. */
  [extension: string]: unknown;
}

/** The API answered with an error status: 4xx exit 2, 5xx exit 3. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly request: string,
  ) {
    super(ApiError.summary(status, problem), status >= 500 ? ExitCode.unavailable : ExitCode.usage, ApiError.detailLines(problem));
  }

  private static summary(status: number, problem: Problem): string {
    const title = problem.title ?? `HTTP ${status}`;
    return problem.detail ? `${title} (${status}): ${problem.detail}` : `${title} (${status})`;
  }

  private static detailLines(problem: Problem): string[] {
    const lines = (problem.errors ?? []).map((error) => `${error.field}: ${error.message}`);
    const standard = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);
    for (const [name, value] of Object.entries(problem)) {
      if (standard.has(name) || value === undefined) continue;
      lines.push(`${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
    return lines;
  }
}
