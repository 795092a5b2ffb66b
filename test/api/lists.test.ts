/**
 * The list endpoints over HTTP against the real dev server: filters, cursor pagination, earlier
 * runs of one id, and that a token sees only what it may read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type HttpResult, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform();
  // A second project, deployable only by the admin token: the payments token must never see it.
  platform.store.landingZones.register({
    project: 'ledgerx',
    tenant: 'finance',
    projectClass: 'java',
    environments: ['dev'],
    workflowId: 'landing-zone.ledgerx',
    runId: 'fixture',
    resources: {},
  });
});
after(async () => {
  await platform.stop();
});

/** Visibility lags a moment behind a run: asks again until `accept` holds. */
async function eventually(path: string, accept: (res: HttpResult) => boolean, token?: string): Promise<HttpResult> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await platform.http('GET', path, undefined, token ? { token } : {});
    if (accept(res)) return res;
    if (Date.now() > deadline) throw new Error(`GET ${path} never gave what the test waits for: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function deploy(project: string, service: string, environment = 'dev', image = `registry.example.com/${project}/${service}@${uniqueDigest()}`) {
  const body = deploymentBody({ project, service, environment, image, ...(environment === 'dev' ? {} : { scanReport: trivyReport(image) }) });
  const res = await platform.http('POST', '/v1/deployments', body);
  assert.ok(res.status === 202 || res.status === 200, JSON.stringify(res.body));
  return { id: res.body.deploymentId as string, runId: res.body.runId as string, image };
}

describe('GET /v1/deployments', () => {
  it('when filtered by project, service and status, then only matching runs come back, newest first, with links', async () => {
    const first = await deploy('payments', 'listed-a');
    const second = await deploy('payments', 'listed-b');
    await platform.waitForStatus(first.id, 'succeeded');
    await platform.waitForStatus(second.id, 'succeeded');
    const res = await eventually('/v1/deployments?project=payments&service=listed-a&status=succeeded', (r) => r.body.items?.length === 1);
    assert.equal(res.status, 200);
    const [item] = res.body.items;
    assert.equal(item.deploymentId, first.id);
    assert.equal(item.runId, first.runId);
    assert.deepEqual([item.project, item.service, item.environment, item.status, item.stage], ['payments', 'listed-a', 'dev', 'succeeded', 'done']);
    assert.match(item.changeNumber, /^CHG\d+$/);
    assert.ok(Date.parse(item.startedAt) <= Date.parse(item.closedAt));
    assert.equal(item.links.self, `${platform.config.api.publicBaseUrl}/v1/deployments/${first.id}`);
    assert.equal(item.links.temporalUi, `${platform.config.temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(first.id)}/${first.runId}/history`);
    assert.equal(res.body.nextCursor, undefined);
  });

  it('when a page is smaller than the list, then nextCursor leads through every run exactly once', async () => {
    const started = [];
    for (const service of ['paged-a', 'paged-b', 'paged-c']) started.push(await deploy('payments', service, 'dev'));
    const ids = started.map((r) => r.id);
    for (const id of ids) await platform.waitForStatus(id, 'succeeded');
    await eventually('/v1/deployments?project=payments&limit=100', (r) => ids.every((id) => r.body.items?.some((i: { deploymentId: string }) => i.deploymentId === id)));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await platform.http('GET', `/v1/deployments?project=payments&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((i: { runId: string }) => i.runId));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no run twice');
    for (const run of started) assert.ok(seen.includes(run.runId), `run ${run.runId} was on a page`);
  });

  it('when a run waits for approval, then the status and change-number filters find it', async () => {
    const run = await deploy('payments', 'listed-waiting', 'staging');
    const waiting = await platform.waitForStatus(run.id, 'awaiting_approval');
    const byStatus = await eventually('/v1/deployments?status=awaiting_approval&stage=awaitApproval', (r) => r.body.items?.some((i: { deploymentId: string }) => i.deploymentId === run.id));
    assert.ok(byStatus.body.items.every((i: { status: string }) => i.status === 'awaiting_approval'));
    const byChange = await eventually(`/v1/deployments?changeNumber=${waiting.change!.number}`, (r) => r.body.items?.length === 1);
    assert.equal(byChange.body.items[0].deploymentId, run.id);
    await platform.http('POST', `/v1/deployments/${run.id}/cancel`);
  });

  it('when a token may deploy one project, then it sees only that project and is refused another', async () => {
    const other = await deploy('ledgerx', 'hidden');
    await platform.waitForStatus(other.id, 'succeeded');
    await eventually('/v1/deployments?project=ledgerx', (r) => r.body.items?.length === 1);
    const mine = await eventually('/v1/deployments?limit=100', (r) => r.status === 200 && r.body.items.length > 0, platform.tokens.payments);
    assert.ok(mine.body.items.every((i: { project: string }) => i.project === 'payments'), 'only payments runs');
    const refused = await platform.http('GET', '/v1/deployments?project=ledgerx', undefined, { token: platform.tokens.payments });
    assert.equal(refused.status, 403);
  });

  it('when a filter, the limit or the cursor is malformed, then 400 names the parameter', async () => {
    const bad = await platform.http('GET', '/v1/deployments?status=nope&limit=500&color=red');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['color', 'limit', 'status']);
    const cursor = await platform.http('GET', '/v1/deployments?cursor=not*a*cursor');
    assert.equal(cursor.status, 400);
    assert.equal(cursor.body.errors[0].field, 'cursor');
  });
});

describe('GET /v1/deployments/{id}/runs', () => {
  it('when the same image is deployed again after its run ended, then both runs are listed under the one id', async () => {
    const image = `registry.example.com/payments/rerun@${uniqueDigest()}`;
    const first = await deploy('payments', 'rerun', 'dev', image);
    await platform.waitForStatus(first.id, 'succeeded');
    const second = await deploy('payments', 'rerun', 'dev', image);
    assert.equal(second.id, first.id);
    assert.notEqual(second.runId, first.runId);
    await platform.waitForStatus(first.id, 'succeeded');
    const res = await eventually(`/v1/deployments/${first.id}/runs`, (r) => r.body.items?.length === 2);
    assert.deepEqual(new Set(res.body.items.map((i: { runId: string }) => i.runId)), new Set([first.runId, second.runId]));
    assert.equal((await platform.http('GET', '/v1/deployments/deploy.payments.nothing.dev.0000000000000000/runs')).status, 404);
    assert.equal((await platform.http('GET', `/v1/deployments/${first.id}/runs`, undefined, { token: platform.tokens.retailAdmin })).status, 403);
  });
});

describe('GET /v1/landing-zones', () => {
  it('when a landing zone is created, then it is listed for admins and its tenant admin, with its runs', async () => {
    const created = await platform.http('POST', '/v1/landing-zones', {
      project: 'listed',
      tenant: 'retail',
      class: 'node-web',
      owners: { emails: ['listed-owner@example.com'], group: 'team-listed' },
      environments: ['dev'],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const all = await eventually('/v1/landing-zones?status=succeeded', (r) => r.body.items?.some((i: { project: string }) => i.project === 'listed'));
    const item = all.body.items.find((i: { project: string }) => i.project === 'listed');
    assert.deepEqual([item.operation, item.status, item.runId], ['create', 'succeeded', created.body.runId]);
    const tenant = await platform.http('GET', '/v1/landing-zones?tenant=retail', undefined, { token: platform.tokens.retailAdmin });
    assert.equal(tenant.status, 200);
    assert.ok(tenant.body.items.some((i: { project: string }) => i.project === 'listed'));
    assert.equal((await platform.http('GET', '/v1/landing-zones?tenant=finance', undefined, { token: platform.tokens.retailAdmin })).status, 403);
    const runs = await platform.http('GET', '/v1/landing-zones/listed/runs');
    assert.equal(runs.status, 200);
    assert.deepEqual(runs.body.items.map((i: { operation: string }) => i.operation), ['create']);
    assert.equal((await platform.http('GET', '/v1/landing-zones/listed/runs', undefined, { token: platform.tokens.payments })).status, 403);
  });
});
