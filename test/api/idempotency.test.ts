/**
 * Idempotency under concurrency: requests racing with one Idempotency-Key start one run, whatever
 * their timing; racing bodies that differ get 409 but for the one the key was claimed for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deploymentBody, startTestPlatform, uniqueDigest, type HttpResult, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

async function runsOf(service: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of platform.client.workflow.list({ query: `DeployService = "${service}"` })) runs.push(execution.runId);
  return runs;
}

describe('Idempotency-Key under concurrency', () => {
  it('when 50 requests with one key and 5 different bodies race, then one run starts, its body\'s requests get it, the others 409', async () => {
    const key = `race-${uniqueDigest().slice(7, 23)}`;
    const bodies = Array.from({ length: 5 }, () => deploymentBody({ service: 'raced', image: `registry.example.com/payments/raced@${uniqueDigest()}` }));
    const requests = Array.from({ length: 50 }, (_, i) => platform.http('POST', '/v1/deployments', bodies[i % 5], { headers: { 'idempotency-key': key } }));
    const answers: HttpResult[] = await Promise.all(requests);
    const accepted = answers.filter((a) => a.status === 202 || a.status === 200);
    const conflicts = answers.filter((a) => a.status === 409);
    assert.equal(accepted.length + conflicts.length, 50, JSON.stringify(answers.filter((a) => ![200, 202, 409].includes(a.status)).map((a) => a.body)));
    assert.equal(accepted.length, 10, 'the ten requests with the body the key was claimed for');
    assert.equal(new Set(accepted.map((a) => a.body.runId)).size, 1, 'all of them see the same run');
    assert.equal(accepted.filter((a) => a.status === 202).length, 1, 'exactly one of them started it');
    assert.ok(conflicts.every((c) => /already used for a different request/.test(c.body.detail)));
    // Visibility lags: wait until the run is listed, then check that it is the only one.
    const deadline = Date.now() + 10_000;
    while ((await runsOf('raced')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await runsOf('raced'), [accepted[0]!.body.runId]);
  });

  it('when 20 identical requests with one key race, then all get the one run', async () => {
    const key = `same-${uniqueDigest().slice(7, 23)}`;
    const body = deploymentBody({ service: 'twins', image: `registry.example.com/payments/twins@${uniqueDigest()}` });
    const answers = await Promise.all(Array.from({ length: 20 }, () => platform.http('POST', '/v1/deployments', body, { headers: { 'idempotency-key': key } })));
    assert.ok(answers.every((a) => a.status === 202 || a.status === 200), JSON.stringify(answers.map((a) => a.status)));
    assert.equal(new Set(answers.map((a) => a.body.runId)).size, 1);
    assert.equal(answers.filter((a) => a.status === 202).length, 1);
  });
});
