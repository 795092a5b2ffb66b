/**
 * Request ids: every answer carries X-Request-Id (the caller's own when it is a safe short token,
 * a new UUID otherwise), every problem body names it, and the API's request log line too.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../api/app';
import { acceptRequestId } from '../../api/request-id';
import { createLogger } from '../../shared/logger';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

describe('request ids', () => {
  it('accepts safe caller ids and replaces anything else', () => {
    for (const id of ['abc', 'ci-job.42:step_3', 'A'.repeat(128)]) assert.equal(acceptRequestId(id), id);
    for (const id of [undefined, '', 'A'.repeat(129), 'has space', 'new\nline', 'quote"', 'ümlaut', 'a=b']) assert.match(acceptRequestId(id), UUID, JSON.stringify(id));
  });

  it('when the caller sends a safe X-Request-Id, then the answer echoes it', async () => {
    const res = await platform.http('GET', '/healthz', undefined, { headers: { 'x-request-id': 'pipeline-1234.step:7' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'pipeline-1234.step:7');
  });

  it('when the caller sends none, or one that is not safe, then the answer carries a new UUID each time', async () => {
    const first = await platform.http('GET', '/healthz');
    const second = await platform.http('GET', '/v1/config/retail/payments');
    const unsafe = await platform.http('GET', '/healthz', undefined, { headers: { 'x-request-id': 'x'.repeat(200) } });
    for (const res of [first, second, unsafe]) assert.match(res.headers.get('x-request-id') ?? '', UUID);
    assert.notEqual(first.headers.get('x-request-id'), second.headers.get('x-request-id'));
  });

  it('when the answer is a problem, then its body names the request id, also for 401, 404 and 400', async () => {
    const answers = [
      await platform.http('GET', '/v1/nowhere', undefined, { headers: { 'x-request-id': 'trace-404' } }),
      await platform.http('GET', '/v1/deployments', undefined, { token: null, headers: { 'x-request-id': 'trace-401' } }),
      await platform.http('GET', '/v1/deployments?limit=0', undefined, { headers: { 'x-request-id': 'trace-400' } }),
      await platform.http('GET', '/v1/audit', undefined, { token: platform.tokens.payments }),
    ];
    assert.deepEqual(
      answers.map((res) => res.status),
      [404, 401, 400, 403],
    );
    assert.deepEqual(
      answers.slice(0, 3).map((res) => res.body.requestId),
      ['trace-404', 'trace-401', 'trace-400'],
    );
    assert.match(answers[3]!.body.requestId, UUID);
    for (const res of answers) assert.equal(res.body.requestId, res.headers.get('x-request-id'));
  });

  it('names the request id in the API\'s request log line', async () => {
    const lines: string[] = [];
    const app = createApp({ config: platform.config, client: platform.client, store: platform.store, logger: createLogger('api', 'info', (line) => lines.push(line)) });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      const res = await fetch(`http://127.0.0.1:${address.port}/healthz`, { headers: { 'x-request-id': 'logged-id-1' } });
      assert.equal(res.status, 200);
      await res.text();
      // The line is written when the answer has been sent; wait for it rather than for a time.
      for (let i = 0; i < 250 && !lines.some((line) => line.includes('GET /healthz 200')); i += 1) await new Promise((r) => setTimeout(r, 20));
      const line = lines.find((l) => l.includes('GET /healthz 200'));
      assert.ok(line, lines.join('\n'));
      assert.match(line, /requestId=logged-id-1\b/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
