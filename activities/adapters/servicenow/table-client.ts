/**
 * A minimal client for ServiceNow's Table API: basic auth, JSON, a timeout, and the translation of
 * every failure into either a non-retryable ChangeRequestRefused or a retryable Error. The
 * password only ever goes into the Authorization header, never into a message.
 */
import type { z } from 'zod';
import { changeRequestRefused, configurationInvalid, isRetryableStatus, ServiceNowUnavailableError } from './failures';

export interface TableClientConfig {
  baseUrl: string;
  user: string;
  password: string;
  timeoutMs: number;
}

export interface TableRequest<T> {
  method: 'GET' | 'POST' | 'PATCH';
  /** Path below the base URL, with its query string already encoded. */
  path: string;
  body?: Record<string, unknown>;
  schema: z.ZodType<T>;
  /** Says what we were doing, for people reading the failure. */
  action: string;
}

export interface TableClient {
  readonly baseUrl: string;
  request<T>(req: TableRequest<T>): Promise<T>;
}

/** Returns the base URL without a trailing slash, refusing ones fetch cannot or must not use. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configurationInvalid('ServiceNow base URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configurationInvalid(`ServiceNow base URL must be http(s), got ${url.protocol}`);
  // Credentials in the URL would end up in logs and error messages; they belong in user/password.
  if (url.username || url.password) throw configurationInvalid('ServiceNow base URL must not contain credentials; pass user and password instead');
  return url.toString().replace(/\/+$/, '');
}

/** ServiceNow's error envelope is `{"error":{"message","detail"},"status":"failure"}`. */
function describeErrorBody(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (error && typeof error === 'object') {
        const { message, detail } = error as { message?: unknown; detail?: unknown };
        const parts = [message, detail].filter((p): p is string => typeof p === 'string' && p.length > 0);
        if (parts.length > 0) return parts.join(': ');
      }
    }
  } catch {
    // not JSON (a proxy's HTML page, say): fall through to the raw text
  }
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed ? trimmed.slice(0, 200) : 'no error message';
}

export function createTableClient(config: TableClientConfig): TableClient {
  const baseUrl = normaliseBaseUrl(config.baseUrl);
  const authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}`;
  // Defence in depth: should ServiceNow (or a proxy) ever echo a credential, it stops here.
  const redact = (text: string): string => (config.password ? text.split(config.password).join('[redacted]') : text);

  async function request<T>({ method, path, body, schema, action }: TableRequest<T>): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new ServiceNowUnavailableError(`ServiceNow did not answer within ${config.timeoutMs} ms while trying to ${action} (${method} ${baseUrl})`);
      }
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new ServiceNowUnavailableError(redact(`ServiceNow is unreachable at ${baseUrl} while trying to ${action}: ${cause}`));
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ServiceNowUnavailableError(redact(`ServiceNow's answer was cut off while trying to ${action}: ${reason}`));
    }

    if (!response.ok) {
      const message = redact(`ServiceNow answered HTTP ${response.status} while trying to ${action}: ${describeErrorBody(text)}`);
      if (isRetryableStatus(response.status)) throw new ServiceNowUnavailableError(message);
      throw changeRequestRefused(message);
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // A 200 with HTML is usually a login page or a hibernating instance, both of which pass.
      throw new ServiceNowUnavailableError(`ServiceNow answered HTTP ${response.status} with a body that is not JSON while trying to ${action}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ServiceNowUnavailableError(`ServiceNow answered with an unexpected shape while trying to ${action}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    return parsed.data;
  }

  return { baseUrl, request };
}
