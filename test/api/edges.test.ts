/**
 * The API's refusals: authentication, authorisation, bad payloads, bad webhooks. Each refusal must
 * start nothing, so most of these run without a worker and check that no run appeared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { apiConnection } from '../../api/temporal-runs';
import { freePort } from '../../scripts/lib/processes';
import { createLogger } from '../../shared/logger';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/webhook-signature';
import { GitOpsRepo, serviceDir } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform();
});
after(async () => {
  await platform.stop();
});

async function runsOfService(service: string): Promise<number> {
  let count = 0;
  for await (const _ of platform.client.workflow.list({ query: `DeployService = "${service}"` })) count++;
  return count;
}

function signedWebhook(body: string, options: { secret?: string; ageSec?: number } = {}): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000) - (options.ageSec ?? 0);
  const signed = signWebhook(options.secret ?? platform.webhookSecret, body, timestamp);
  return { [TIMESTAMP_HEADER]: signed.timestamp, [SIGNATURE_HEADER]: signed.signature };
}

describe('authentication and authorisation', () => {
  it('when no bearer token is sent, then 401 and nothing starts', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noauth' }), { token: null });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type')?.startsWith('application/problem+json'), true);
    assert.match(res.body.detail, /bearer token/);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  it('when the token is unknown, then 401', async () => {
    const res = await platform.http('GET', '/v1/deployments/deploy.payments.x.dev.0000000000000000', undefined, { token: 'not-a-real-token-at-all' });
    assert.equal(res.status, 401);
  });

  it('when a token deploys a project it is not scoped to, then 403 and nothing starts', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'orders', service: 'crossproj' }), { token: platform.tokens.payments });
    assert.equal(res.status, 403);
    assert.match(res.body.detail, /ci-payments may not deploy project "orders"/);
    assert.equal(await runsOfService('crossproj'), 0);
  });

  it('when a token reads another project\'s deployment, then 403', async () => {
    const res = await platform.http('GET', `/v1/deployments/deploy.orders.api.dev.${'0'.repeat(16)}`, undefined, { token: platform.tokens.payments });
    assert.equal(res.status, 403);
  });

  it('when a deployment does not exist, then 404', async () => {
    assert.equal((await platform.http('GET', `/v1/deployments/deploy.payments.none.dev.${'0'.repeat(16)}`)).status, 404);
    assert.equal((await platform.http('GET', '/v1/deployments/not-an-id')).status, 404);
    assert.equal((await platform.http('POST', `/v1/deployments/deploy.payments.none.dev.${'0'.repeat(16)}/cancel`)).status, 404);
  });
});

describe('invalid payloads', () => {
  it('when several fields are wrong, then 400 names each of them and nothing starts', async () => {
    const res = await platform.http('POST', '/v1/deployments', {
      project: 'Payments!',
      service: 'badfields',
      environment: 'dev',
      image: 'registry.example.com/payments/ledger:latest',
      port: 70000,
      route: { host: 'not a host' },
      replicaz: 3,
    });
    assert.equal(res.status, 400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual(fields, ['image', 'port', 'project', 'replicaz', 'route.host']);
    assert.match(JSON.stringify(res.body.errors), /pinned by digest/);
    assert.equal(await runsOfService('badfields'), 0);
  });

  it('when a required field is missing, then 400 names it', async () => {
    const body = deploymentBody({ service: 'missing' });
    delete body.port;
    const res = await platform.http('POST', '/v1/deployments', body);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['port']);
  });

  it('when the environment is unknown or replicas exceed its policy, then 400 names the field', async () => {
    const unknown = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noenv', environment: 'qa' }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].field, 'environment');
    assert.match(unknown.body.errors[0].message, /known: dev, staging, prod/);
    const many = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'noenv', replicas: 50 }));
    assert.equal(many.status, 400);
    assert.equal(many.body.errors[0].field, 'replicas');
    assert.equal(await runsOfService('noenv'), 0);
  });

  it('when the scan report is not Trivy JSON, then 400 points into the report', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'badscan', scanReport: { SchemaVersion: 2, Results: [{ Target: 'x', Vulnerabilities: [{ Severity: 7 }] }] } }));
    assert.equal(res.status, 400);
    assert.ok(res.body.errors.every((e: { field: string }) => e.field.startsWith('scanReport.')), JSON.stringify(res.body.errors));
  });

  it('when the body is malformed JSON, not JSON, or too large, then 400, 415 and 413', async () => {
    assert.equal((await platform.http('POST', '/v1/deployments', undefined, { raw: '{"project": ' })).status, 400);
    assert.equal((await platform.http('POST', '/v1/deployments', undefined, { raw: 'project=x', headers: { 'content-type': 'text/plain' } })).status, 415);
    const huge = JSON.stringify(deploymentBody({ requestedBy: 'x'.repeat(2_000_000) }));
    const res = await platform.http('POST', '/v1/deployments', undefined, { raw: huge });
    assert.equal(res.status, 413);
    assert.equal(res.body.title, 'Payload too large');
  });

  it('when the route path climbs with .. or . segments, then 400 names route.path; doubled slashes are folded', async () => {
    for (const path of ['/../../etc', '/api/./v1', '/api/..']) {
      const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'climber', route: { host: 'climber.payments.example.com', path } }));
      assert.equal(res.status, 400, path);
      assert.deepEqual(res.body.errors, [{ field: 'route.path', message: 'must not contain . or .. segments' }]);
    }
    assert.equal(await runsOfService('climber'), 0);
    const folded = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'folded', route: { host: 'folded.payments.example.com', path: '//api//v1' } }));
    assert.equal(folded.status, 202, JSON.stringify(folded.body));
    assert.equal((await platform.waitForStatus(folded.body.deploymentId, ['succeeded', 'failed'])).status, 'succeeded');
    const repo = new GitOpsRepo(platform.config.gitops.repoDir);
    const mesh = repo.files(serviceDir('payments-dev', 'folded', 'mesh')).map((file) => repo.show(file)).join('\n');
    assert.match(mesh, /prefix: \/api\/v1\b/, 'the VirtualService routes the folded prefix');
  });

  it('when the Idempotency-Key is malformed, then 400 names the header', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'badkey' }), { headers: { 'idempotency-key': 'has spaces in it' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'Idempotency-Key');
  });
});

describe('ServiceNow webhook', () => {
  const decision = (number: string) => JSON.stringify({ number, approval: 'approved', approver: 'mallory' });

  it('when the signature is missing or wrong, then 401 and no signal', async () => {
    const body = decision('CHG0000001');
    const missing = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null });
    assert.equal(missing.status, 401);
    const wrong = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: signedWebhook(body, { secret: 'another-secret-entirely' }) });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.detail, /signature/);
  });

  it('when the body was changed after signing, then 401', async () => {
    const headers = signedWebhook(decision('CHG0000001'));
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: decision('CHG0000002'), token: null, headers });
    assert.equal(res.status, 401);
  });

  it('when the timestamp is older than five minutes, then 401', async () => {
    const body = decision('CHG0000001');
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: signedWebhook(body, { ageSec: 301 }) });
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /timestamp/i);
  });

  it('when the change is unknown, then 404', async () => {
    const body = decision('CHG9999999');
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: signedWebhook(body) });
    assert.equal(res.status, 404);
  });

  it('when a signed body is not a decision, then 400 names the fields', async () => {
    const body = JSON.stringify({ number: 'nope', approval: 'maybe' });
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: signedWebhook(body) });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field).sort(), ['approval', 'approver', 'number']);
  });

  it('when the run has already finished, then 409', async () => {
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'finished', image: `registry.example.com/payments/finished@${uniqueDigest()}` }));
    const done = await platform.waitForStatus(started.body.deploymentId, 'succeeded');
    const body = JSON.stringify({ number: done.change!.number, approval: 'approved', approver: 'late.larry' });
    const res = await platform.http('POST', '/v1/webhooks/servicenow', undefined, { raw: body, token: null, headers: signedWebhook(body) });
    assert.equal(res.status, 409);
  });
});

describe('health', () => {
  it('when Temporal is reachable, then /healthz and /readyz answer 200', async () => {
    assert.equal((await platform.http('GET', '/healthz', undefined, { token: null })).status, 200);
    assert.equal((await platform.http('GET', '/readyz', undefined, { token: null })).status, 200);
  });

  it('when Temporal is unreachable, then every endpoint answers 503 with Retry-After at once, the webhook too, and starts nothing', async (t) => {
    const deadPort = await freePort();
    const client = new Client({ connection: apiConnection(`127.0.0.1:${deadPort}`) });
    const app = createApp({ config: platform.config, client, store: platform.store, logger: createLogger('test', 'error') });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const authorised = { authorization: `Bearer ${platform.tokens.admin}`, 'content-type': 'application/json' };
    const webhookBody = JSON.stringify({ number: 'CHG0000001', approval: 'approved', approver: 'jane' });
    const calls: [string, string, Record<string, string>, string?][] = [
      ['POST', '/v1/deployments', authorised, JSON.stringify(deploymentBody({ service: 'temporal-down' }))],
      ['GET', '/v1/deployments/deploy.payments.ledger.dev.0123456789abcdef', authorised],
      ['GET', '/v1/deployments?project=payments', authorised],
      ['GET', '/v1/landing-zones/payments', authorised],
      ['POST', '/v1/webhooks/servicenow', { 'content-type': 'application/json', ...signedWebhook(webhookBody) }, webhookBody],
    ];
    try {
      for (const [method, path, headers, body] of calls) {
        const started = Date.now();
        const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
        t.diagnostic(`${method} ${path} → ${res.status} in ${Date.now() - started} ms`);
        assert.equal(res.status, 503, `${method} ${path}`);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.match(((await res.json()) as { detail: string }).detail, /Temporal is not reachable/);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await client.connection.close();
    }
  });

  it('when a path has a malformed percent-encoding, then 400 names the path', async () => {
    const res = await platform.http('GET', '/v1/deployments/%E0%A4%A');
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, '(path)');
  });

  it('when Temporal is unreachable, then /readyz answers 503 while /healthz stays 200', async () => {
    const deadPort = await freePort();
    const connection = Connection.lazy({ address: `127.0.0.1:${deadPort}` });
    const client = new Client({ connection });
    const app = createApp({ config: platform.config, client, store: platform.store, logger: createLogger('test', 'error') });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(((await ready.json()) as { detail: string }).detail, /not reachable/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
