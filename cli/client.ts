/**
 * The platform's HTTP API as the CLI sees it: base URL and token, JSON in and out, RFC 9457 problem
 * bodies turned into `ApiError`, and unreachable hosts into `ConnectionError`. Requests that are
 * safe to repeat (GET, PUT, and a POST carrying an Idempotency-Key) are retried a few times when
 * the platform cannot be reached or answers 502/503/504.
 */
import { ApiError, ConnectionError, UsageError, type Problem } from './errors';

export const DEFAULT_URL = 'http://localhost:8080';

export interface ClientSettings {
  baseUrl: string;
  token: string;
}

/**
 * Where to send requests and with which token: `--url`/`--token` over PLATFORM_URL/PLATFORM_TOKEN.
 * A usage error (nothing sent) when the token is missing or the URL is not http(s).
 */
export function resolveSettings(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv): ClientSettings {
  const url = flags.url ?? env.PLATFORM_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL: give the platform's API as http(s)://host[:port] (--url or PLATFORM_URL)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`"${url}" is not an http(s) URL (--url or PLATFORM_URL)`);
  }
  const token = flags.token ?? env.PLATFORM_TOKEN;
  if (!token) throw new UsageError('no token: set PLATFORM_TOKEN (or pass --token) to a platform API token');
  return { baseUrl: parsed.toString().replace(/\/+$/, ''), token };
}

/** Encodes each interpolated value as one path segment: api`/v1/deployments/${id}`. */
export function api(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce((path, part, index) => path + part + (index < values.length ? encodeURIComponent(values[index] ?? '') : ''), '');
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Repeat on connection errors and 502/503/504 (GET and PUT always are). */
  retry?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty body (204). */
  body: unknown;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  /** Per request. */
  timeoutMs?: number;
  /** Waits between attempts of a request that may be repeated. */
  retryDelaysMs?: number[];
  userAgent?: string;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

export class PlatformClient {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: number[];
  private readonly userAgent: string;

  constructor(
    readonly settings: ClientSettings,
    options: ClientOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retryDelaysMs = options.retryDelaysMs ?? [500, 1500];
    this.userAgent = options.userAgent ?? 'platformctl';
  }

  get baseUrl(): string {
    return this.settings.baseUrl;
  }

  url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(this.settings.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  get(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<ApiResponse> {
    return this.request('GET', path, options);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = this.url(path, options.query);
    const repeatable = options.retry ?? (method === 'GET' || method === 'PUT');
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${this.settings.token}`,
      'user-agent': this.userAgent,
      ...options.headers,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const attempts = repeatable ? this.retryDelaysMs.length + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, url, headers, body);
      } catch (error) {
        const transient = error instanceof ConnectionError || (error instanceof ApiError && RETRIED_STATUSES.has(error.status));
        if (!transient || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelaysMs[attempt - 1]));
      }
    }
  }

  private async once(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<ApiResponse> {
    const request = `${method} ${url.replace(/\?.*$/, '')}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw new ConnectionError(`cannot reach the platform at ${this.settings.baseUrl} (${request}): ${describeFailure(error)}`);
    }
    let parsed: unknown;
    let json = true;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        json = false;
      }
    }
    if (response.status >= 400) {
      const problem: Problem = json && isObject(parsed) ? (parsed as Problem) : { title: response.statusText || `HTTP ${response.status}`, detail: snippet(text) };
      throw new ApiError(response.status, problem, request);
    }
    if (!json) throw new ConnectionError(`${request} answered ${response.status} with something that is not JSON: ${snippet(text)}`);
    return { status: response.status, headers: response.headers, body: parsed };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** fetch's errors say "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, timeout) is the cause. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  // e.g. "connect ECONNREFUSED 127.0.0.1:8080", "getaddrinfo ENOTFOUND platform.example.com"
  return error.cause instanceof Error ? error.cause.message : error.message;
}
