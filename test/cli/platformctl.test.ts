/**
 * platformctl against a real platform (API, worker, ServiceNow simulator, Temporal dev server),
 * run as a child process: the exit codes and the output are what a pipeline sees.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { trivyReport } from '../helpers/fixtures';
import { startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';
import { recordingServer, runCli, shown, startCli, type CliResult } from './run-cli';

let platform: TestPlatform;
let scratch: string;

before(async () => {
  platform = await startTestPlatform({ approvalPollIntervalMs: 1_000 });
  scratch = mkdtempSync(join(tmpdir(), 'platformctl-test-'));
});
after(async () => {
  await platform.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const admin = (): Record<string, string> => ({ PLATFORM_URL: platform.apiUrl, PLATFORM_TOKEN: platform.tokens.admin });
const paymentsCi = (): Record<string, string> => ({ PLATFORM_URL: platform.apiUrl, PLATFORM_TOKEN: platform.tokens.payments });

let counter = 0;
/** A fresh image of a fresh service (every test deploys its own), with its Trivy report on disk. */
function release(environment: string, service = `cli-${process.pid % 1000}-${++counter}`) {
  const image = `registry.example.com/payments/${service}:1.0.${counter}@${uniqueDigest()}`;
  const reportFile = join(scratch, `${service}-trivy.json`);
  writeFileSync(reportFile, JSON.stringify(trivyReport(image)));
  const digestHex = image.split('@sha256:')[1]!.slice(0, 16);
  const args = ['deploy', '--project', 'payments', '--service', service, '--environment', environment, '--image', image, '--host', `${service}.payments.example.com`, '--port', '8080'];
  return { service, image, reportFile, id: `deploy.payments.${service}.${environment}.${digestHex}`, args };
}

/** Lines of stdout that match each pattern, in this order (other lines may come between). */
function assertInOrder(output: string, patterns: RegExp[]): void {
  const lines = output.split('\n');
  let from = 0;
  for (const pattern of patterns) {
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    assert.ok(index >= 0, `expected a line matching ${pattern} after line ${from} in:\n${output}`);
    from = index + 1;
  }
}

/** A change number the CLI printed when the run began waiting for approval. */
function changeNumberIn(output: string): string {
  const match = /waiting for approval of change (CHG\d+)/.exec(output);
  assert.ok(match, `no change number in:\n${output}`);
  return match[1]!;
}

describe('platformctl deploy --wait', () => {
  it('when a staging deploy is approved in ServiceNow while the CLI waits, then it prints each stage in order and exits 0', async () => {
    const r = release('staging');
    const cli = startCli([...r.args, '--scan-report', r.reportFile, '--wait', '--interval', '250ms', '--timeout', '2m'], paymentsCi());
    // The API says the run waits; approve once the CLI has shown it (its change number and deadline).
    await platform.waitForStatus(r.id, 'awaiting_approval');
    await cli.printed('waiting for approval of change');
    const change = changeNumberIn(cli.stdout());
    assert.equal((await platform.simulator('approve', change, 'jane.approver', 'ok for today')).status, 200);
    const result = await cli.done;

    assert.equal(result.code, 0, shown(result));
    assertInOrder(result.stdout, [
      new RegExp(`^deployment ${r.id.replace(/\./g, '\\.')} started \\(run [0-9a-f-]+\\)$`),
      /^\d\d:\d\d:\d\d {4}scan succeeded: 0 blocking findings/,
      /^\d\d:\d\d:\d\d {4}render succeeded: chart /,
      /^\d\d:\d\d:\d\d {4}openChange succeeded: CHG\d+/,
      /^\d\d:\d\d:\d\d {2}status=awaiting_approval stage=awaitApproval$/,
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d {4}waiting for approval of change ${change}, approval deadline \\d{4}-\\d\\d-\\d\\dT`),
      /^\d\d:\d\d:\d\d {4}awaitApproval succeeded: approved in ServiceNow/,
      /^\d\d:\d\d:\d\d {4}deploy succeeded: revision /,
      /^\d\d:\d\d:\d\d {4}wireMesh succeeded/,
      /^\d\d:\d\d:\d\d {4}verify succeeded/,
      /^\d\d:\d\d:\d\d {4}closeChange succeeded/,
      /^\d\d:\d\d:\d\d {2}status=succeeded stage=done$/,
      new RegExp(`^deployment ${r.id.replace(/\./g, '\\.')} succeeded in \\d+`),
    ]);
    assert.equal(result.stdout.match(/waiting for approval of change/g)?.length, 1, 'the wait for approval is announced once');
    assert.ok(!result.stdout.includes(platform.tokens.payments) && !result.stderr.includes(platform.tokens.payments), 'the token is never printed');
    assert.equal(result.stderr, '');
  });

  it('when the change is rejected, then it exits 1 naming ApprovalRejected and the approver decision', async () => {
    const r = release('staging');
    const cli = startCli([...r.args, '--scan-report', r.reportFile, '--wait', '--interval', '250ms', '--timeout', '2m'], paymentsCi());
    await cli.printed('waiting for approval of change');
    await platform.simulator('reject', changeNumberIn(cli.stdout()), 'jane.approver', 'not this week');
    const result = await cli.done;

    assert.equal(result.code, 1, shown(result));
    assertInOrder(result.stdout, [/status=awaiting_approval stage=awaitApproval/, /awaitApproval failed/, /status=rejected stage=done/]);
    assert.match(result.stdout, new RegExp(`^deployment ${r.id.replace(/\./g, '\\.')} ended rejected: ApprovalRejected: .*`, 'm'));
  });

  it('when an approval the policy does not count comes in, then the CLI shows it as approval.refused and keeps waiting', async () => {
    const r = release('staging');
    const cli = startCli([...r.args, '--scan-report', r.reportFile, '--wait', '--interval', '250ms', '--timeout', '2m'], paymentsCi());
    await cli.printed('waiting for approval of change');
    const change = changeNumberIn(cli.stdout());
    // The requester (the token's subject) may not approve their own change: ServiceNow records it, the run does not count it.
    await platform.simulator('approve', change, 'ci-payments');
    await cli.printed(/approval\.refused: approved by ci-payments/);
    await platform.simulator('approve', change, 'jane.approver');
    const result = await cli.done;
    assert.equal(result.code, 0, shown(result));
    assertInOrder(result.stdout, [/approval\.refused: approved by ci-payments.*requester/, /awaitApproval succeeded/]);
  });

  it('when --timeout passes before the run ends, then it exits 4 saying the run goes on, and the run is still waiting', async () => {
    const r = release('staging');
    const result = await runCli([...r.args, '--scan-report', r.reportFile, '--wait', '--interval', '250ms', '--timeout', '3s'], paymentsCi());
    assert.equal(result.code, 4, shown(result));
    assert.match(result.stderr, new RegExp(`gave up waiting after 3s: deployment ${r.id.replace(/\./g, '\\.')} is still awaiting_approval \\(stage awaitApproval\\); it goes on\\. Follow it with: platformctl wait ${r.id.replace(/\./g, '\\.')}`));
    assert.equal((await platform.http('GET', `/v1/deployments/${r.id}`)).body.status, 'awaiting_approval');
    await platform.http('POST', `/v1/deployments/${r.id}/cancel`);
  });

  it('when a dev deploy is run again, then the derived Idempotency-Key meets the same run and says nothing new was started', async () => {
    const r = release('dev');
    const first = await runCli([...r.args, '--wait', '--interval', '250ms'], paymentsCi());
    assert.equal(first.code, 0, shown(first));
    const again = await runCli(r.args, paymentsCi());
    assert.equal(again.code, 0, shown(again));
    assert.match(again.stdout, /this request meets an existing run .*succeeded\); nothing new was started/);
    assert.match(again.stdout, /pass a new --idempotency-key/);
  });
});

describe('platformctl --json', () => {
  it('when a dev deploy is started with --json, then stdout is the API answer as one JSON document', async () => {
    const r = release('dev');
    const result = await runCli([...r.args, '--json'], paymentsCi());
    assert.equal(result.code, 0, shown(result));
    const answer = JSON.parse(result.stdout) as { deploymentId: string; runId: string; status: string; created: boolean; links: { temporalUi: string } };
    assert.equal(answer.deploymentId, r.id);
    assert.equal(answer.status, 'running');
    assert.equal(answer.created, true);
    assert.match(answer.links.temporalUi, /^http/);
  });

  it('when a dev deploy is followed with --json --wait, then every line is JSON and the last one is the succeeded run', async () => {
    const r = release('dev');
    const result = await runCli([...r.args, '--json', '--wait', '--interval', '250ms'], paymentsCi());
    assert.equal(result.code, 0, shown(result));
    const documents = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { deploymentId: string; status: string; steps?: unknown[] });
    assert.ok(documents.length >= 2, result.stdout);
    assert.ok(documents.every((document) => document.deploymentId === r.id));
    assert.equal(documents.at(-1)?.status, 'succeeded');
    assert.ok((documents.at(-1)?.steps?.length ?? 0) > 0, 'the full status, steps included');
  });
});

describe('usage errors: exit 2 and nothing sent', () => {
  let server: Awaited<ReturnType<typeof recordingServer>>;
  before(async () => {
    server = await recordingServer();
  });
  after(() => server.close());

  const image = `registry.example.com/payments/ledger:1.0@sha256:${'ab'.repeat(32)}`;
  const cases: { name: string; args: string[]; stderr: RegExp; env?: Record<string, string> }[] = [
    { name: 'missing --project', args: ['deploy', '--service', 'ledger', '--environment', 'dev', '--image', image, '--host', 'a.example.com'], stderr: /missing --project\n.*\n {2}see: platformctl deploy --help/ },
    { name: 'an image not pinned by digest', args: ['deploy', '--project', 'payments', '--service', 'ledger', '--environment', 'dev', '--image', 'registry.example.com/payments/ledger:latest', '--host', 'a.example.com'], stderr: /--image "registry\.example\.com\/payments\/ledger:latest" is not pinned by digest/ },
    { name: 'an unknown option', args: ['deploy', '--replica', '3'], stderr: /unknown option '--replica'/ },
    { name: 'a port that is not a number', args: ['deploy', '--port', 'http'], stderr: /option '--port <number>' argument 'http' is invalid\. "http" is not a whole number/ },
    { name: 'a bad duration', args: ['wait', 'deploy.payments.ledger.dev.0123456789abcdef', '--timeout', 'soon'], stderr: /"soon" is not a duration/ },
    { name: 'an unknown status filter', args: ['list', '--status', 'done'], stderr: /argument 'done' is invalid\. Allowed choices are running, awaiting_approval/ },
    { name: 'a missing argument', args: ['status'], stderr: /missing required argument 'deploymentId'/ },
    { name: 'an unknown command', args: ['deploi'], stderr: /unknown command 'deploi'/ },
    { name: 'no command', args: [], stderr: /Usage: platformctl/ },
    { name: 'a scan report that does not exist', args: ['deploy', '--project', 'payments', '--service', 'ledger', '--environment', 'staging', '--image', image, '--host', 'a.example.com', '--scan-report', '/nonexistent/trivy.json'], stderr: /--scan-report \/nonexistent\/trivy\.json: cannot read it/ },
    { name: 'no token', args: ['status', 'deploy.payments.ledger.dev.0123456789abcdef'], stderr: /no token: set PLATFORM_TOKEN/, env: {} },
    { name: 'config set without a scope', args: ['config', 'set', 'LOG_LEVEL', 'debug'], stderr: /which scope\? give --global, --tenant <tenant>, or --tenant <tenant> --project <project>/ },
    { name: 'config set with a value and a secret reference', args: ['config', 'set', 'db.password', 'x', '--secret-ref', 'vault://kv/a#b', '--global'], stderr: /give a value or --secret-ref <ref>, not both/ },
    { name: 'lz update with nothing to change', args: ['lz', 'update', 'payments'], stderr: /nothing to update/ },
    { name: 'lz create without owners', args: ['lz', 'create', '--project', 'x', '--tenant', 'retail', '--class', 'java', '--environments', 'dev'], stderr: /missing --owner-email, --owner-group/ },
  ];
  for (const testCase of cases) {
    it(`when given ${testCase.name}, then it exits 2 with a clear message and sends no request`, async () => {
      const before = server.requests.length;
      const env: Record<string, string> = { PLATFORM_URL: server.url, ...(testCase.env ?? { PLATFORM_TOKEN: 'unused-token' }) };
      const result = await runCli(testCase.args, env);
      assert.equal(result.code, 2, shown(result));
      assert.match(result.stderr, testCase.stderr, shown(result));
      assert.equal(result.stdout, '');
      assert.deepEqual(server.requests.slice(before), []);
    });
  }
});

describe('API errors', () => {
  it('when the payments CI token deploys another project, then it exits 2 showing the 403 problem', async () => {
    const image = `registry.example.com/billing/api:1.0@${uniqueDigest()}`;
    const result = await runCli(['deploy', '--project', 'billing', '--service', 'api', '--environment', 'dev', '--image', image, '--host', 'api.billing.example.com'], paymentsCi());
    assert.equal(result.code, 2, shown(result));
    // The problem's request id follows, for the caller to quote to the platform team.
    assert.match(result.stderr, /^platformctl: Not allowed \(403\): .*ci-payments.* "billing"\n {2}requestId: [0-9a-f-]{36}\n$/);
    assert.equal(result.stdout, '');
  });

  it('when the request has invalid fields, then it exits 2 listing each field the API names', async () => {
    const image = `registry.example.com/payments/ledger:1.0@${uniqueDigest()}`;
    const result = await runCli(['deploy', '--project', 'payments', '--service', 'Ledger', '--environment', 'dev', '--image', image, '--host', 'ledger', '--replicas', '9'], paymentsCi());
    assert.equal(result.code, 2, shown(result));
    assert.match(result.stderr, /^platformctl: Invalid request \(400\): /);
    assert.match(result.stderr, /\n {2}service: must be a lowercase DNS label/);
    assert.match(result.stderr, /\n {2}route\.host: must be a fully qualified lowercase host name/);
  });

  it('when the deployment does not exist, then status exits 2 with the 404', async () => {
    const result = await runCli(['status', 'deploy.payments.nothing.dev.0123456789abcdef'], paymentsCi());
    assert.equal(result.code, 2, shown(result));
    assert.match(result.stderr, /Not found \(404\): no deployment "deploy\.payments\.nothing\.dev\.0123456789abcdef"/);
  });

  it('when the token is not known, then it exits 2 with the 401', async () => {
    const result = await runCli(['lz', 'status', 'payments'], { PLATFORM_URL: platform.apiUrl, PLATFORM_TOKEN: 'no-such-token' });
    assert.equal(result.code, 2, shown(result));
    assert.match(result.stderr, /\(401\)/);
  });

  it('when nothing listens at the URL, then it exits 3 saying it cannot reach the platform', async () => {
    const server = await recordingServer();
    await server.close();
    const result = await runCli(['status', 'deploy.payments.ledger.dev.0123456789abcdef'], { PLATFORM_URL: server.url, PLATFORM_TOKEN: 'x' });
    assert.equal(result.code, 3, shown(result));
    assert.match(result.stderr, new RegExp(`cannot reach the platform at ${server.url.replace(/\./g, '\\.')} .*ECONNREFUSED`));
  });

  it('when the platform answers 5xx, then it exits 3 with the problem', async () => {
    const server = await recordingServer();
    try {
      const result = await runCli(['lz', 'status', 'payments'], { PLATFORM_URL: server.url, PLATFORM_TOKEN: 'x' });
      assert.equal(result.code, 3, shown(result));
      assert.match(result.stderr, /should not be called \(500\)/);
      assert.equal(server.requests.length, 1, 'a 500 is not retried');
    } finally {
      await server.close();
    }
  });
});

describe('status, cancel and wait of a run waiting for approval', () => {
  it('when a staging run waits, then status shows it, cancel stops it, wait exits 1 with cancelled, and a second cancel exits 2 with the 409', async () => {
    const r = release('staging');
    const started = await runCli([...r.args, '--scan-report', r.reportFile], paymentsCi());
    assert.equal(started.code, 0, shown(started));
    const waiting = await platform.waitForStatus(r.id, 'awaiting_approval');

    const status = await runCli(['status', r.id], paymentsCi());
    assert.equal(status.code, 0, shown(status));
    assert.match(status.stdout, new RegExp(`^deployment +${r.id.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(status.stdout, /^status +awaiting_approval \(stage awaitApproval\)$/m);
    assert.match(status.stdout, new RegExp(`^change +${waiting.change!.number}`, 'm'));
    assert.match(status.stdout, /^approval +required, deadline \d{4}-/m);
    assert.match(status.stdout, /^ {2}awaitApproval +running/m);

    const statusJson = await runCli(['status', r.id, '--json'], paymentsCi());
    assert.equal((JSON.parse(statusJson.stdout) as { status: string }).status, 'awaiting_approval');

    const cancel = await runCli(['cancel', r.id], paymentsCi());
    assert.equal(cancel.code, 0, shown(cancel));
    assert.match(cancel.stdout, new RegExp(`^deployment ${r.id.replace(/\./g, '\\.')}: cancelling \\(run [0-9a-f-]+\\)`));

    const wait = await runCli(['wait', r.id, '--interval', '250ms', '--timeout', '1m'], paymentsCi());
    assert.equal(wait.code, 1, shown(wait));
    assert.match(wait.stdout, /status=cancelled stage=done/);
    assert.match(wait.stdout, new RegExp(`deployment ${r.id.replace(/\./g, '\\.')} ended cancelled`));

    const again = await runCli(['cancel', r.id], paymentsCi());
    assert.equal(again.code, 2, shown(again));
    assert.match(again.stderr, /Conflict \(409\): deployment .* has already ended with status cancelled/);
  });
});

describe('landing zones', () => {
  it('when lz status payments is asked, then it shows the registered zone', async () => {
    const result = await runCli(['lz', 'status', 'payments'], admin());
    assert.equal(result.code, 0, shown(result));
    assert.match(result.stdout, /^project +payments$/m);
    assert.match(result.stdout, /^state +active$/m);
    assert.match(result.stdout, /^environments +dev, staging, prod, hurry$/m);
  });

  it('when a zone is created, updated and decommissioned with --wait, then each follows its own run to succeeded', async () => {
    const project = `clilz${process.pid % 10_000}`;
    const create = await runCli(
      ['lz', 'create', '--project', project, '--tenant', 'retail', '--class', 'node-web', '--owner-email', 'owner@example.com', '--owner-email', 'second@example.com', '--owner-group', 'team-cli', '--environments', 'dev,staging', '--wait', '--interval', '250ms'],
      admin(),
    );
    assert.equal(create.code, 0, shown(create));
    assertInOrder(create.stdout, [new RegExp(`^landing zone ${project} started`), /namespaces succeeded: /, /sourceRepository succeeded/, /status=succeeded stage=done/, new RegExp(`^landing zone ${project} succeeded`)]);

    const update = await runCli(['lz', 'update', project, '--quota-pods', '33', '--wait', '--interval', '250ms'], admin());
    assert.equal(update.code, 0, shown(update));
    assertInOrder(update.stdout, [new RegExp(`^update of landing zone ${project} started \\(run `), /^ {2}- quota$/, /namespaces succeeded/, new RegExp(`^update of landing zone ${project} succeeded`)]);

    const unchanged = await runCli(['lz', 'update', project, '--quota-pods', '33'], admin());
    assert.equal(unchanged.code, 0, shown(unchanged));
    assert.match(unchanged.stdout, /already looks like this/);

    const remove = await runCli(['lz', 'delete', project, '--reason', 'cli test', '--wait', '--interval', '250ms'], admin());
    assert.equal(remove.code, 0, shown(remove));
    assertInOrder(remove.stdout, [new RegExp(`^decommission of landing zone ${project} started`), /freeze succeeded/, /unregister succeeded/, new RegExp(`^decommission of landing zone ${project} succeeded`)]);

    const status = await runCli(['lz', 'status', project, '--json'], admin());
    const zone = JSON.parse(status.stdout) as { state: string; lastOperation: { operation: string; status: string } };
    assert.equal(zone.state, 'decommissioned');
    assert.deepEqual([zone.lastOperation.operation, zone.lastOperation.status], ['decommission', 'succeeded']);
  });
});

describe('configuration', () => {
  it('when entries are set at global and project scope, then config get shows each with its scope, secrets as references', async () => {
    const set = await runCli(['config', 'set', 'cli.greeting', 'hello', '--global'], admin());
    assert.equal(set.code, 0, shown(set));
    assert.match(set.stdout, /^(created|updated) global entry cli\.greeting for all environments$/m);
    const secret = await runCli(['config', 'set', 'cli.db.password', '--secret-ref', 'vault://kv/payments/db#password', '--tenant', 'retail', '--project', 'payments', '--environment', 'prod'], admin());
    assert.equal(secret.code, 0, shown(secret));

    const get = await runCli(['config', 'get', 'retail', 'payments', '--environment', 'prod'], paymentsCi());
    assert.equal(get.code, 0, shown(get));
    assert.match(get.stdout, /^configuration of retail\/payments in prod$/m);
    assert.match(get.stdout, /^cli\.greeting +hello +global +\(all\)/m);
    assert.match(get.stdout, /^cli\.db\.password +secret vault:\/\/kv\/payments\/db#password +project +prod/m);

    const json = await runCli(['config', 'get', 'retail', 'payments', '--json'], paymentsCi());
    const resolved = JSON.parse(json.stdout) as { entries: { key: string }[] };
    assert.ok(resolved.entries.some((entry) => entry.key === 'cli.greeting'));
    assert.ok(!resolved.entries.some((entry) => entry.key === 'cli.db.password'), 'the prod-only entry is not in the all-environment view');

    const refused = await runCli(['config', 'set', 'db.password', 'hunter2', '--tenant', 'retail', '--project', 'payments'], admin());
    assert.equal(refused.code, 2, shown(refused));
    assert.match(refused.stderr, /Invalid request \(400\): the entry cannot be stored as given\n {2}value: "db\.password" names a secret/);

    const removed = await runCli(['config', 'delete', 'cli.greeting', '--global'], admin());
    assert.equal(removed.code, 0, shown(removed));
    assert.match(removed.stdout, /^deleted global entry cli\.greeting for all environments$/m);
  });
});

describe('list and history (GET /v1/deployments, GET /v1/deployments/{id}/runs)', () => {
  /** Visibility lags a moment behind a run: runs the command again until `accept` holds. */
  async function eventually(args: string[], accept: (result: CliResult) => boolean): Promise<CliResult> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const result = await runCli(args, paymentsCi());
      if (accept(result) || Date.now() > deadline) return result;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  it('when two deployments of one service have run, then list shows both in a table, and --limit 1 --all follows the cursor to both', async () => {
    const service = `cli-list-${process.pid % 1000}`;
    const first = release('dev', service);
    const second = release('dev', service);
    for (const r of [first, second]) {
      const result = await runCli([...r.args, '--wait', '--interval', '250ms'], paymentsCi());
      assert.equal(result.code, 0, shown(result));
    }
    const table = await eventually(['list', '--project', 'payments', '--service', service, '--status', 'succeeded'], (result) => result.stdout.includes(first.id) && result.stdout.includes(second.id));
    assert.equal(table.code, 0, shown(table));
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^DEPLOYMENT +STATUS +STAGE +CHANGE +STARTED +CLOSED$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/ +/).slice(0, 3)),
      [
        [second.id, 'succeeded', 'done'],
        [first.id, 'succeeded', 'done'],
      ],
      'newest first',
    );

    const onePage = await runCli(['list', '--project', 'payments', '--service', service, '--limit', '1'], paymentsCi());
    assert.equal(onePage.code, 0, shown(onePage));
    assert.match(onePage.stdout, /^more: add --cursor \S+ \(or --all\)$/m);

    const all = await runCli(['list', '--project', 'payments', '--service', service, '--limit', '1', '--all', '--json'], paymentsCi());
    assert.equal(all.code, 0, shown(all));
    const pages = all.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { items: { deploymentId: string }[]; nextCursor?: string });
    assert.ok(pages.length >= 2, all.stdout);
    assert.deepEqual(
      pages.flatMap((page) => page.items.map((item) => item.deploymentId)),
      [second.id, first.id],
    );
  });

  it('when one image was deployed twice, then history lists both runs of its id, newest first', async () => {
    const r = release('dev');
    const once = await runCli([...r.args, '--wait', '--interval', '250ms'], paymentsCi());
    assert.equal(once.code, 0, shown(once));
    const twice = await runCli([...r.args, '--idempotency-key', `again-${r.service}`, '--wait', '--interval', '250ms'], paymentsCi());
    assert.equal(twice.code, 0, shown(twice));
    const runIds = [once, twice].map((result) => /started \(run ([0-9a-f-]+)\)/.exec(result.stdout)?.[1]);

    const history = await eventually(['history', r.id], (result) => runIds.every((runId) => runId !== undefined && result.stdout.includes(runId)));
    assert.equal(history.code, 0, shown(history));
    const lines = history.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^RUN +STATUS/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/ +/).slice(0, 2)),
      [
        [runIds[1], 'succeeded'],
        [runIds[0], 'succeeded'],
      ],
    );
  });
});

describe('help', () => {
  const commands = [[], ['deploy'], ['status'], ['cancel'], ['wait'], ['list'], ['history'], ['lz', 'create'], ['lz', 'status'], ['lz', 'update'], ['lz', 'delete'], ['config', 'get'], ['config', 'set'], ['config', 'delete']];
  it('when --help is asked of any command, then it exits 0 with usage and examples', async () => {
    for (const command of commands) {
      const result = await runCli([...command, '--help'], {});
      assert.equal(result.code, 0, shown(result));
      assert.match(result.stdout, new RegExp(`^Usage: platformctl ${command.join(' ')}`), shown(result));
      assert.match(result.stdout, command.length === 0 ? /Exit codes:/ : /\nExamples:\n {2}(#|\$ platformctl)/, shown(result));
      assert.match(result.stdout, /--json/, 'the global options are shown');
    }
  });
});
