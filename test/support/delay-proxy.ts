/**
 * A reverse proxy for tests that need a request to arrive late. Requests matching a hold rule are
 * read in full and forwarded to the target only after a delay (or on release()), even when the
 * caller has given up and closed its connection meanwhile: the request still lands, as one does
 * that was slow in transit, and its answer is lost. Everything else is forwarded at once. Every
 * request is logged in `seen` with its timings, so a test can show the order things happened in.
 */
import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestLine {
  method: string;
  /** Path and query, as the caller sent them. */
  url: string;
}

export interface HoldOptions {
  /** Forward this long after the request arrived; without it, only release() (or close) ends the hold. */
  delayMs?: number;
  /** How many matching requests to hold: 1 unless told (Infinity for all). */
  count?: number;
}

export interface SeenRequest extends RequestLine {
  /** 1, 2, … in order of arrival. */
  readonly id: number;
  /** Date.now() when the whole request had been read. */
  at: number;
  held: boolean;
  /** When it was sent on to the target. */
  forwardedAt?: number;
  /** The target's status code, once it answered. */
  status?: number;
  answeredAt?: number;
  /** Why there was no answer (target unreachable, proxy closed before forwarding). */
  error?: string;
  /** When the caller closed its connection before it had the answer (gave up, timed out, died). */
  callerGoneAt?: number;
}

export interface DelayProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Date.now() when the proxy started: describe() shows times relative to it. */
  readonly startedAt: number;
  /** Every request in order of arrival; entries are updated as they progress. */
  readonly seen: readonly SeenRequest[];
  hold(match: (request: RequestLine) => boolean, options?: HoldOptions): void;
  /** Resolves with the n-th held request (1-based) once it has arrived; at once if it already has. */
  whenHeld(n?: number): Promise<SeenRequest>;
  /** Forwards the requests still held now: all of them, or those `which` picks. */
  release(which?: (request: SeenRequest) => boolean): void;
  /**
   * Resolves once every request held so far (or those `which` picks) has been forwarded and
   * answered, or has failed; with those requests, in order of arrival.
   */
  whenSettled(which?: (request: SeenRequest) => boolean): Promise<SeenRequest[]>;
  /** One line per request, times relative to the proxy's start: for assertion messages. */
  describe(): string;
  /** Drops what is still held, aborts what is in flight, closes every connection. */
  close(): Promise<void>;
}

export interface DelayProxyOptions {
  /**
   * Where requests go (its origin; the caller's path is kept). A function is read per request, so
   * a proxy can be started (and its URL handed out) before the target exists.
   */
  target: string | (() => string);
}

interface Rule {
  match: (request: RequestLine) => boolean;
  delayMs: number | undefined;
  remaining: number;
}

interface Held {
  entry: SeenRequest;
  forward: () => void;
  drop: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** Connection-scoped headers describe the hop to the proxy, not the one to the target. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'];

function endToEnd(headers: IncomingHttpHeaders, body: Buffer): OutgoingHttpHeaders {
  const copy: OutgoingHttpHeaders = { ...headers };
  for (const name of [...HOP_BY_HOP, 'host', 'content-length']) delete copy[name];
  // Bodies are buffered, so their length is known and is sent instead of chunked encoding.
  if (body.length > 0) copy['content-length'] = body.length;
  return copy;
}

export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const targetOf = typeof options.target === 'function' ? options.target : () => options.target as string;
  const startedAt = Date.now();
  // A private agent without keep-alive: close() can destroy it and leave no pooled socket behind.
  const agent = new Agent({ keepAlive: false });
  const rules: Rule[] = [];
  const seen: SeenRequest[] = [];
  const held = new Map<SeenRequest, Held>();
  const settled = new Map<SeenRequest, Promise<void>>();
  const inFlight = new Set<ClientRequest>();
  const heldWaiters: { n: number; resolve: (entry: SeenRequest) => void; reject: (error: Error) => void }[] = [];
  let closed = false;

  /** Sends the request on and passes the answer back if the caller is still there; never rejects. */
  function forward(entry: SeenRequest, headers: IncomingHttpHeaders, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const fail = (reason: string): void => {
        if (entry.status !== undefined || entry.error !== undefined) return;
        entry.error = reason;
        if (!res.destroyed && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`delay proxy: ${reason}`);
        resolve();
      };
      if (closed) return fail('proxy closed before forwarding');
      let target: URL;
      try {
        target = new URL(entry.url, targetOf());
      } catch (error) {
        return fail(`no usable target: ${error instanceof Error ? error.message : String(error)}`);
      }
      entry.forwardedAt = Date.now();
      const upstream = httpRequest(target, { method: entry.method, headers: endToEnd(headers, body), agent }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('error', (error) => {
          inFlight.delete(upstream);
          fail(`answer cut off: ${error.message}`);
        });
        answer.on('end', () => {
          inFlight.delete(upstream);
          const payload = Buffer.concat(parts);
          entry.status = answer.statusCode ?? 0;
          entry.answeredAt = Date.now();
          // The caller may have given up long ago: then the answer is lost, which is the point.
          if (!res.destroyed && !res.headersSent) res.writeHead(entry.status, endToEnd(answer.headers, payload)).end(payload);
          resolve();
        });
      });
      inFlight.add(upstream);
      upstream.on('error', (error) => {
        inFlight.delete(upstream);
        fail(`target unreachable: ${error.message}`);
      });
      upstream.end(body);
    });
  }

  function notifyHeld(): void {
    const heldSoFar = seen.filter((e) => e.held);
    for (const waiter of [...heldWaiters]) {
      const entry = heldSoFar[waiter.n - 1];
      if (!entry) continue;
      heldWaiters.splice(heldWaiters.indexOf(waiter), 1);
      waiter.resolve(entry);
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A caller dying mid-body: nothing to forward, nothing to log.
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry: SeenRequest = { id: seen.length + 1, method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now(), held: false };
      seen.push(entry);
      // 'close' before the answer was written means the caller's connection went away.
      res.on('close', () => {
        if (!res.writableFinished) entry.callerGoneAt ??= Date.now();
      });
      const rule = closed ? undefined : rules.find((r) => r.remaining > 0 && r.match(entry));
      if (!rule) {
        void forward(entry, req.headers, body, res);
        return;
      }
      rule.remaining -= 1;
      entry.held = true;
      let done: () => void = () => undefined;
      settled.set(entry, new Promise<void>((resolve) => (done = resolve)));
      const hold: Held = {
        entry,
        timer: undefined,
        forward: () => {
          clearTimeout(hold.timer);
          held.delete(entry);
          void forward(entry, req.headers, body, res).then(done);
        },
        drop: () => {
          clearTimeout(hold.timer);
          held.delete(entry);
          entry.error = 'dropped: proxy closed while holding it';
          res.destroy();
          done();
        },
      };
      held.set(entry, hold);
      if (rule.delayMs !== undefined) hold.timer = setTimeout(hold.forward, rule.delayMs);
      notifyHeld();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const rel = (t: number | undefined): string => (t === undefined ? '?' : `+${t - startedAt}ms`);

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    startedAt,
    seen,

    hold(match, { delayMs, count = 1 } = {}) {
      rules.push({ match, delayMs, remaining: count });
    },

    whenHeld(n = 1) {
      if (closed) return Promise.reject(new Error('delay proxy is closed'));
      return new Promise<SeenRequest>((resolve, reject) => {
        heldWaiters.push({ n, resolve, reject });
        notifyHeld();
      });
    },

    release(which = () => true) {
      for (const hold of [...held.values()]) if (which(hold.entry)) hold.forward();
    },

    async whenSettled(which = () => true) {
      const picked = [...settled.keys()].filter(which);
      await Promise.all(picked.map((entry) => settled.get(entry)));
      return picked;
    },

    describe() {
      return seen
        .map((e) => {
          const parts = [`#${e.id} ${rel(e.at)} ${e.method} ${e.url}`];
          if (e.held) parts.push('HELD');
          if (e.callerGoneAt !== undefined) parts.push(`caller gone ${rel(e.callerGoneAt)}`);
          if (e.held && e.forwardedAt !== undefined) parts.push(`forwarded ${rel(e.forwardedAt)}`);
          const outcome =
            e.status !== undefined ? `→ ${e.status} ${rel(e.answeredAt)}` : e.error !== undefined ? `✗ ${e.error}` : e.forwardedAt === undefined ? '(not forwarded yet)' : '(awaiting answer)';
          return `${parts.join(', ')} ${outcome}`;
        })
        .join('\n');
    },

    close() {
      closing ??= (async () => {
        closed = true;
        for (const hold of [...held.values()]) hold.drop();
        for (const upstream of [...inFlight]) upstream.destroy(new Error('proxy closed'));
        for (const waiter of heldWaiters.splice(0)) waiter.reject(new Error('delay proxy closed before the request was held'));
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await serverClosed;
        agent.destroy();
      })();
      return closing;
    },
  };
}
