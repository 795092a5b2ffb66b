/**
 * The audit log: one entry per attempt of a state-changing action (refusals too), written where
 * the action happens, read by platform admins through GET /v1/audit (newest first, paged,
 * filtered), and append-only in the database itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type HttpResult, type TestPlatform } from '../helpers/platform';

interface Entry {
  id: number;
  at: string;
  requestId: string;
  actor: string;
  action: string;
  target: Record<string, string>;
  workflowId?: string;
  runId?: string;
  outcome: string;
  status: number;
  channel: string;
}

let platform: TestPlatform;
const startedAt = new Date().toISOString();

before(async () => {
  platform = await startTestPlatform();
  // A project the payments token may not deploy.
  platform.store.landingZones.register({ project: 'ledgerx', tenant: 'finance', projectClass: 'java', environments: ['dev'], workflowId: 'landing-zone.ledgerx', runId: 'fixture', resources: {} });
});
after(async () => {
  await platform.stop();
});

/** Every entry matching `query`, newest first, read page by page. */
async function entries(query = '', pageSize = 100): Promise<Entry[]> {
  const all: Entry[] = [];
  let cursor: string | undefined;
  do {
    const res: HttpResult = await platform.http('GET', `/v1/audit?limit=${pageSize}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    all.push(...(res.body.items as Entry[]));
    cursor = res.body.nextCursor;
  } while (cursor);
  return all;
}

async function entryFor(requestId: string): Promise<Entry> {
  const found = (await entries()).filter((e) => e.requestId === requestId);
  assert.equal(found.length, 1, `one entry for request ${requestId}: ${JSON.stringify(found)}`);
  return found[0]!;
}

const withId = (id: string, headers: Record<string, string> = {}) => ({ headers: { 'x-request-id': id, ...headers } });

describe('audit entries', () => {
  it('when a deployment starts, then an accepted entry names the caller, the target, the run and the channel', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'audited' }), { token: platform.tokens.payments, ...withId('audit-start-1') });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const entry = await entryFor('audit-start-1');
    assert.deepEqual(
      { actor: entry.actor, action: entry.action, target: entry.target, workflowId: entry.workflowId, runId: entry.runId, outcome: entry.outcome, status: entry.status, channel: entry.channel },
      {
        actor: 'ci-payments',
        action: 'deployment.start',
        target: { project: 'payments', service: 'audited', environment: 'dev' },
        workflowId: res.body.deploymentId,
        runId: res.body.runId,
        outcome: 'accepted',
        status: 202,
        channel: 'api',
      },
    );
    assert.ok(entry.at >= startedAt);
  });

  it('when the same Idempotency-Key is sent again, then the repeat is recorded as a duplicate of the same run', async () => {
    const body = deploymentBody({ service: 'audited-idem' });
    const headers = { 'idempotency-key': `audit-${uniqueDigest().slice(7, 23)}` };
    const first = await platform.http('POST', '/v1/deployments', body, withId('audit-idem-1', headers));
    const again = await platform.http('POST', '/v1/deployments', body, withId('audit-idem-2', headers));
    assert.equal(first.status, 202);
    assert.equal(again.status, 200);
    const [a, b] = [await entryFor('audit-idem-1'), await entryFor('audit-idem-2')];
    assert.equal(a.outcome, 'accepted');
    assert.deepEqual({ outcome: b.outcome, status: b.status, workflowId: b.workflowId, runId: b.runId }, { outcome: 'duplicate', status: 200, workflowId: a.workflowId, runId: a.runId });
  });

  it('when a deployment is refused (another project), then a refused entry with 403; platformctl is named as the channel', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'ledgerx', service: 'sneaky' }), {
      token: platform.tokens.payments,
      ...withId('audit-refused-1', { 'user-agent': 'platformctl/1.0 (linux)' }),
    });
    assert.equal(res.status, 403);
    const entry = await entryFor('audit-refused-1');
    assert.deepEqual(
      { actor: entry.actor, action: entry.action, target: entry.target, outcome: entry.outcome, status: entry.status, channel: entry.channel, workflowId: entry.workflowId },
      { actor: 'ci-payments', action: 'deployment.start', target: { project: 'ledgerx', service: 'sneaky', environment: 'dev' }, outcome: 'refused', status: 403, channel: 'platformctl', workflowId: undefined },
    );
  });

  it('when an approver decides in ServiceNow, then the webhook\'s decision is recorded as servicenow-webhook; a cancel is recorded with its run', async () => {
    const image = `registry.example.com/payments/audited-approval@${uniqueDigest()}`;
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'audited-approval', environment: 'staging', image, scanReport: trivyReport(image) }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
    const change = waiting.change!.number;
    const approved = await platform.simulator('approve', change, 'jane.approver');
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.webhook.status, 202, JSON.stringify(approved.body.webhook));
    const decisions = (await entries('action=approval.decision')).filter((e) => e.target.changeNumber === change);
    assert.equal(decisions.length, 1, JSON.stringify(decisions));
    assert.deepEqual(
      { actor: decisions[0]!.actor, channel: decisions[0]!.channel, outcome: decisions[0]!.outcome, status: decisions[0]!.status, workflowId: decisions[0]!.workflowId, runId: decisions[0]!.runId, project: decisions[0]!.target.project },
      { actor: 'servicenow-webhook', channel: 'webhook', outcome: 'accepted', status: 202, workflowId: started.body.deploymentId, runId: started.body.runId, project: 'payments' },
    );

    const image2 = `registry.example.com/payments/audited-cancel@${uniqueDigest()}`;
    const waitingRun = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'audited-cancel', environment: 'staging', image: image2, scanReport: trivyReport(image2) }));
    assert.equal(waitingRun.status, 202);
    await platform.waitForStatus(waitingRun.body.deploymentId, 'awaiting_approval');
    const cancelled = await platform.http('POST', `/v1/deployments/${waitingRun.body.deploymentId}/cancel`, undefined, withId('audit-cancel-1'));
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
    const entry = await entryFor('audit-cancel-1');
    assert.deepEqual(
      { actor: entry.actor, action: entry.action, outcome: entry.outcome, status: entry.status, workflowId: entry.workflowId, runId: entry.runId, target: entry.target },
      {
        actor: 'ci-admin',
        action: 'deployment.cancel',
        outcome: 'accepted',
        status: 202,
        workflowId: waitingRun.body.deploymentId,
        runId: waitingRun.body.runId,
        target: { deploymentId: waitingRun.body.deploymentId, project: 'payments', service: 'audited-cancel', environment: 'staging' },
      },
    );
  });

  it('when a landing zone is created, then an accepted entry; a tenant admin trying it is refused with 403', async () => {
    const body = { project: 'audited-lz', tenant: 'retail', class: 'node-web', owners: { emails: ['owner@example.com'], group: 'team-audited' }, environments: ['dev'] };
    const refused = await platform.http('POST', '/v1/landing-zones', body, { token: platform.tokens.retailAdmin, ...withId('audit-lz-refused') });
    assert.equal(refused.status, 403);
    const created = await platform.http('POST', '/v1/landing-zones', body, withId('audit-lz-1'));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const entry = await entryFor('audit-lz-1');
    assert.deepEqual(
      { actor: entry.actor, action: entry.action, outcome: entry.outcome, target: entry.target, workflowId: entry.workflowId, runId: entry.runId },
      { actor: 'ci-admin', action: 'landing-zone.create', outcome: 'accepted', target: { tenant: 'retail', project: 'audited-lz' }, workflowId: created.body.landingZoneId, runId: created.body.runId },
    );
    const no = await entryFor('audit-lz-refused');
    assert.deepEqual({ actor: no.actor, outcome: no.outcome, status: no.status }, { actor: 'retail-admin', outcome: 'refused', status: 403 });
  });

  it('when configuration is set and deleted, then both are recorded by key, and the value is nowhere in the log', async () => {
    const value = 'audit-value-that-must-not-be-logged-7f3a';
    const set = await platform.http('PUT', '/v1/config/tenants/retail/projects/payments/entries/feature.flag', { value, environment: 'dev' }, withId('audit-config-set'));
    assert.equal(set.status, 201, JSON.stringify(set.body));
    const secret = await platform.http('PUT', '/v1/config/global/entries/db.password', { secretRef: 'vault://kv/audit/db#password' }, withId('audit-config-secret'));
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    const deleted = await platform.http('DELETE', '/v1/config/tenants/retail/projects/payments/entries/feature.flag?environment=dev', undefined, withId('audit-config-delete'));
    assert.equal(deleted.status, 204);
    const refused = await platform.http('PUT', '/v1/config/global/entries/LOG_LEVEL', { value }, { token: platform.tokens.ledgerOwner, ...withId('audit-config-refused') });
    assert.equal(refused.status, 403);

    const [s, d, r] = [await entryFor('audit-config-set'), await entryFor('audit-config-delete'), await entryFor('audit-config-refused')];
    assert.deepEqual(
      { action: s.action, outcome: s.outcome, status: s.status, target: s.target },
      { action: 'config.set', outcome: 'accepted', status: 201, target: { scope: 'project', tenant: 'retail', project: 'payments', key: 'feature.flag', environment: 'dev' } },
    );
    assert.deepEqual({ action: d.action, outcome: d.outcome, status: d.status, target: d.target }, { action: 'config.delete', outcome: 'accepted', status: 204, target: s.target });
    assert.deepEqual({ actor: r.actor, outcome: r.outcome, status: r.status, target: r.target }, { actor: 'ledger-owner', outcome: 'refused', status: 403, target: { scope: 'global', key: 'LOG_LEVEL' } });

    const everything = JSON.stringify(await entries());
    assert.ok(!everything.includes(value), 'no value over the API');
    assert.ok(!everything.includes('vault://kv/audit'), 'no secret reference over the API');
    const db = new Database(platform.config.databaseFile, { readonly: true });
    try {
      const rows = JSON.stringify(db.prepare('SELECT * FROM audit_log').all());
      assert.ok(!rows.includes(value) && !rows.includes('vault://kv/audit'), 'nor in the table');
    } finally {
      db.close();
    }
  });
});

describe('GET /v1/audit', () => {
  it('when the token is not a platform admin, then 403', async () => {
    for (const token of [platform.tokens.payments, platform.tokens.retailAdmin, platform.tokens.ledgerOwner]) {
      const res = await platform.http('GET', '/v1/audit', undefined, { token });
      assert.equal(res.status, 403);
      assert.match(res.body.detail, /platform-admin/);
    }
  });

  it('pages newest first by cursor, each entry once', async () => {
    const all = await entries();
    assert.ok(all.length >= 8, `${all.length} entries`);
    const paged = await entries('', 3);
    assert.deepEqual(
      paged.map((e) => e.id),
      all.map((e) => e.id),
    );
    assert.ok(all.every((e, i) => i === 0 || e.id < all[i - 1]!.id), 'newest first');
    const last = await platform.http('GET', `/v1/audit?limit=${all.length}`);
    assert.equal(last.body.nextCursor, undefined, 'no cursor after the last page');
  });

  it('filters by actor, action, project and time', async () => {
    const byActor = await entries('actor=ci-payments');
    assert.ok(byActor.length >= 2 && byActor.every((e) => e.actor === 'ci-payments'));
    const byAction = await entries('action=config.set');
    assert.ok(byAction.length >= 2 && byAction.every((e) => e.action === 'config.set'));
    const byProject = await entries('project=ledgerx');
    assert.ok(byProject.length >= 1 && byProject.every((e) => e.target.project === 'ledgerx'));
    const combined = await entries('actor=ci-payments&action=deployment.start&project=payments');
    assert.ok(combined.length >= 1 && combined.every((e) => e.actor === 'ci-payments' && e.action === 'deployment.start' && e.target.project === 'payments'));

    const all = await entries();
    const middle = all[Math.floor(all.length / 2)]!;
    const since = await entries(`since=${encodeURIComponent(middle.at)}`);
    const until = await entries(`until=${encodeURIComponent(middle.at)}`);
    assert.ok(since.every((e) => e.at >= middle.at) && since.some((e) => e.id === middle.id));
    assert.ok(until.every((e) => e.at < middle.at));
    assert.equal(since.length + until.length, all.length);
    assert.deepEqual(await entries('since=2999-01-01T00:00:00Z'), []);
  });

  it('when a filter or cursor is malformed, then 400 names it', async () => {
    for (const [query, field] of [
      ['action=deployment.explode', 'action'],
      ['since=yesterday', 'since'],
      ['project=Not_A_Label', 'project'],
      ['cursor=bm9wZQ', 'cursor'],
      ['colour=blue', 'colour'],
    ] as const) {
      const res = await platform.http('GET', `/v1/audit?${query}`);
      assert.equal(res.status, 400, query);
      assert.ok(res.body.errors.some((e: { field: string }) => e.field === field), `${query}: ${JSON.stringify(res.body.errors)}`);
    }
  });
});

describe('the audit_log table', () => {
  it('refuses UPDATE and DELETE, whoever sends them', () => {
    const db = new Database(platform.config.databaseFile);
    try {
      const row = db.prepare('SELECT id FROM audit_log ORDER BY id LIMIT 1').get() as { id: number } | undefined;
      assert.ok(row, 'there are entries');
      assert.throws(() => db.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?").run(row.id), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit_log WHERE id = ?').run(row.id), /append-only/);
      assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
      assert.equal((db.prepare('SELECT actor FROM audit_log WHERE id = ?').get(row.id) as { actor: string }).actor.length > 0, true);
    } finally {
      db.close();
    }
  });
});
