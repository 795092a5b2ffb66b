/**
 * The simulator's encoded queries as the platform's decided-changes poll uses them: operators, IN,
 * ^OR binding, ORDERBY, paging with sysparm_offset, sysparm_fields, and the loud 400s for whatever
 * the simulator does not understand (a real instance would quietly match too much).
 *
 * The records are written to the data file before the simulator starts, so every timestamp and
 * sys_id is known and the expected answers can be spelled out.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newApproval, type SimApproval } from '../../simulators/servicenow/approval-records';
import { changeNumber, newChange, type SimChange } from '../../simulators/servicenow/records';
import { startServiceNowSimulator, type RunningServiceNowSimulator } from '../../simulators/servicenow/server';
import { tempDir } from './helpers';

const credentials = { user: 'platform.integration', password: 'sim-test-password-0123456789' };
const auth = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
const TABLE = '/api/now/table/change_request';
const APPROVALS = '/api/now/table/sysapproval_approver';
const FIRST = 30001;
const OURS = 'deploy-platform';
const THEIRS = 'someone-else';
/** The poll's "since": records 1 and 2 were updated exactly then, record 6 a second before. */
const SINCE = '2030-01-01 10:00:00';

interface Fixture {
  display: string;
  approval: string;
  state: string;
  updated: string;
}

/** Record n (1-based) is CHG00300nn. Records 1/2, 4/5 and 9/10 share an update second. */
const FIXTURES: readonly Fixture[] = [
  { display: OURS, approval: 'approved', state: '-2', updated: '2030-01-01 10:00:00' },
  { display: OURS, approval: 'requested', state: '-5', updated: '2030-01-01 10:00:00' },
  { display: THEIRS, approval: 'approved', state: '-2', updated: '2030-01-01 10:00:01' },
  { display: OURS, approval: 'rejected', state: '4', updated: '2030-01-01 10:00:02' },
  { display: OURS, approval: 'requested', state: '4', updated: '2030-01-01 10:00:02' },
  { display: OURS, approval: 'approved', state: '3', updated: '2030-01-01 09:59:59' },
  { display: OURS, approval: 'approved', state: '-1', updated: '2030-01-01 10:00:03' },
  { display: THEIRS, approval: 'rejected', state: '4', updated: '2030-01-01 10:00:04' },
  { display: OURS, approval: 'approved', state: '-2', updated: '2030-01-01 10:00:05' },
  { display: OURS, approval: 'rejected', state: '4', updated: '2030-01-01 10:00:05' },
  { display: OURS, approval: 'requested', state: '-5', updated: '2030-01-01 10:00:06' },
  { display: OURS, approval: 'approved', state: '-2', updated: '2030-01-01 10:00:07' },
];

/** sys_ids fall as numbers rise, so a sys_id tie-break visibly differs from creation order. */
function sysIdOf(n: number): string {
  return (100 - n).toString(16).padStart(32, '0');
}

function numberOf(n: number): string {
  return changeNumber(FIRST + n - 1);
}

function fixtureChange(fixture: Fixture, index: number): SimChange {
  const n = index + 1;
  const created = newChange(FIRST + index, { short_description: `change ${n}`, correlation_display: fixture.display }, new Date('2030-01-01T09:00:00Z'), sysIdOf(n));
  return { ...created, approval: fixture.approval, state: fixture.state, sys_updated_on: fixture.updated };
}

/** Three approvals on record 1, for paging the approval table. */
function fixtureApprovals(): SimApproval[] {
  return ['ann', 'ben', 'cat'].map((approver) => newApproval(sysIdOf(1), approver, 'Platform CAB', new Date('2030-01-01T10:00:00Z')));
}

interface Reply {
  status: number;
  body: { result?: Record<string, string>[]; error?: { message: string; detail: string } };
}

/** The poll the platform sends: ours, updated since T, decided or in a final state, in a stable order. */
const DECIDED_SINCE = `correlation_display=${OURS}^sys_updated_on>=${SINCE}^approvalINapproved,rejected^ORstateIN3,4^ORDERBYsys_updated_on^ORDERBYsys_id`;

describe('ServiceNow simulator encoded queries on change_request', () => {
  const temp = tempDir('sn-sim-query');
  let simulator: RunningServiceNowSimulator;

  /** Each parameter is sent as given; a repeated one is a [name, value] pair given twice. */
  const get = async (path: string, params: Record<string, string> | [string, string][]): Promise<Reply> => {
    const response = await fetch(`${simulator.url}${path}?${new URLSearchParams(params).toString()}`, { headers: { accept: 'application/json', authorization: auth } });
    return { status: response.status, body: (await response.json()) as Reply['body'] };
  };
  const list = (params: Record<string, string> | [string, string][]) => get(TABLE, params);
  const result = (reply: Reply): Record<string, string>[] => {
    assert.equal(reply.status, 200, reply.body.error?.detail);
    assert.ok(reply.body.result);
    return reply.body.result;
  };
  /** The 1-based fixture numbers a query answers, in answer order. */
  const found = async (query: string, extra: Record<string, string> = {}): Promise<number[]> =>
    result(await list({ sysparm_query: query, ...extra })).map((r) => Number(r.number?.slice(3)) - FIRST + 1);
  const refusal = async (params: Record<string, string> | [string, string][], path = TABLE): Promise<string> => {
    const reply = await get(path, params);
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error?.message, 'Invalid query');
    return reply.body.error?.detail ?? '';
  };

  before(async () => {
    const dataFile = join(temp.dir, 'changes.json');
    const file = { version: 2, nextNumber: FIRST + FIXTURES.length, records: FIXTURES.map(fixtureChange), approvals: fixtureApprovals() };
    writeFileSync(dataFile, JSON.stringify(file));
    simulator = await startServiceNowSimulator({ port: 0, dataFile, credentials, webhook: { url: 'http://127.0.0.1:9/unused', secret: 'sim-query-secret' } });
  });
  after(async () => {
    await simulator.close();
    temp.remove();
  });

  describe('operators', () => {
    it('when = or != is used, then records equal or unequal to the value match', async () => {
      assert.deepEqual(await found(`number=${numberOf(4)}`), [4]);
      assert.deepEqual(await found(`correlation_display!=${OURS}`), [3, 8]);
    });

    it('when > or >= compares a glide date-time, then later records match, the boundary only with >=', async () => {
      assert.deepEqual(await found('sys_updated_on>2030-01-01 10:00:05'), [11, 12]);
      assert.deepEqual(await found('sys_updated_on>=2030-01-01 10:00:05'), [9, 10, 11, 12]);
    });

    it('when < or <= compares a glide date-time, then earlier records match, the boundary only with <=', async () => {
      assert.deepEqual(await found(`sys_updated_on<${SINCE}`), [6]);
      assert.deepEqual(await found(`sys_updated_on<=${SINCE}`), [1, 2, 6]);
    });

    it('when IN lists values, then a record matches any one of them', async () => {
      assert.deepEqual(await found('approvalINrejected'), [4, 8, 10]);
      assert.deepEqual(await found(`numberIN${numberOf(1)},${numberOf(3)}`), [1, 3]);
      assert.deepEqual(await found('approvalINapproved,rejected^stateIN3,4'), [4, 6, 8, 10]);
    });

    it('when several terms are joined by ^, then all must hold', async () => {
      assert.deepEqual(await found(`correlation_display=${OURS}^approval=requested^state=4`), [5]);
    });
  });

  describe('^OR', () => {
    it('when ^OR follows a term, then it joins only that term: a^b^ORc is a AND (b OR c)', async () => {
      // Read as (ours AND rejected) OR state 4, record 8 (theirs, state 4) would match too.
      assert.deepEqual(await found(`correlation_display=${OURS}^approval=rejected^ORstate=4`), [4, 5, 10]);
    });

    it('when the ^OR group comes first, then the later term still applies to the whole group', async () => {
      assert.deepEqual(await found(`approval=rejected^ORstate=4^correlation_display=${OURS}`), [4, 5, 10]);
    });

    it('when ^OR is chained, then any of the chained terms satisfies the group', async () => {
      assert.deepEqual(await found(`number=${numberOf(1)}^ORnumber=${numberOf(2)}^ORnumber=${numberOf(3)}^approval=approved`), [1, 3]);
    });
  });

  describe('ORDERBY', () => {
    it('when ORDERBY names a field, then records come sorted ascending and ties keep their stored order', async () => {
      assert.deepEqual(await found('ORDERBYcorrelation_display'), [1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 3, 8]);
    });

    it('when ORDERBYDESC names a field, then records come sorted descending and ties keep their stored order', async () => {
      assert.deepEqual(await found('approval=approved^ORDERBYDESCsys_updated_on'), [12, 9, 7, 3, 1, 6]);
    });

    it('when several ORDERBY terms are given, then the first sorts first and the next breaks its ties', async () => {
      assert.deepEqual(await found('sys_updated_on<=2030-01-01 10:00:02^ORDERBYsys_updated_on^ORDERBYsys_id'), [6, 2, 1, 3, 5, 4]);
      assert.deepEqual(await found('sys_updated_on<=2030-01-01 10:00:02^ORDERBYsys_updated_on^ORDERBYDESCsys_id'), [6, 1, 2, 3, 4, 5]);
    });
  });

  describe('paging with sysparm_offset and sysparm_limit', () => {
    it('when the decided-changes poll is paged three at a time, then three pages return every match once, in order', async () => {
      const whole = await found(DECIDED_SINCE);
      assert.deepEqual(whole, [1, 5, 4, 7, 10, 9, 12]);
      const pages: number[][] = [];
      for (const offset of [0, 3, 6, 9]) pages.push(await found(DECIDED_SINCE, { sysparm_limit: '3', sysparm_offset: String(offset) }));
      assert.deepEqual(pages, [[1, 5, 4], [7, 10, 9], [12], []]);
      const seen = pages.flat();
      assert.deepEqual(seen, whole, 'no record is missed or repeated across pages');
      assert.equal(new Set(seen).size, seen.length);
    });

    it('when only sysparm_offset is given, then every record after the offset comes back', async () => {
      assert.deepEqual(await found(DECIDED_SINCE, { sysparm_offset: '5' }), [9, 12]);
      assert.deepEqual(await found(DECIDED_SINCE, { sysparm_offset: '0' }), [1, 5, 4, 7, 10, 9, 12]);
    });

    it('when the approval table is paged, then sysparm_offset applies there too', async () => {
      const page = result(await get(APPROVALS, { sysparm_query: `sysapproval=${sysIdOf(1)}`, sysparm_offset: '1', sysparm_limit: '1', sysparm_fields: 'approver' }));
      assert.deepEqual(page, [{ approver: 'ben' }]);
    });
  });

  describe('sysparm_fields', () => {
    it('when sysparm_fields names fields, then each record carries exactly those, under those names', async () => {
      const rows = result(await list({ sysparm_query: DECIDED_SINCE, sysparm_fields: 'sys_id,number,sys_updated_on', sysparm_limit: '2' }));
      assert.deepEqual(rows, [
        { sys_id: sysIdOf(1), number: numberOf(1), sys_updated_on: '2030-01-01 10:00:00' },
        { sys_id: sysIdOf(5), number: numberOf(5), sys_updated_on: '2030-01-01 10:00:02' },
      ]);
    });

    it('when sysparm_fields is absent or empty, then whole records come back', async () => {
      const [whole] = result(await list({ sysparm_query: `number=${numberOf(1)}`, sysparm_fields: '' }));
      assert.equal(whole?.short_description, 'change 1');
      assert.equal(whole?.correlation_display, OURS);
    });

    it('when sysparm_fields names an unknown field, then 400 naming it', async () => {
      assert.match(await refusal({ sysparm_fields: 'sys_id,approver.email' }), /approver\.email/);
    });
  });

  describe('refusals (400 Invalid query, never a silently wider match)', () => {
    it('when ^NQ is used, then 400 saying it is not supported', async () => {
      assert.match(await refusal({ sysparm_query: `approval=approved^NQstate=4` }), /\^NQ/);
    });

    it('when a condition or ORDERBY names an unknown field, then 400 naming it', async () => {
      assert.match(await refusal({ sysparm_query: 'no_such_field>=1' }), /unknown field "no_such_field"/);
      assert.match(await refusal({ sysparm_query: `approval=approved^ORno_such_field=1` }), /unknown field "no_such_field"/);
      assert.match(await refusal({ sysparm_query: 'ORDERBYno_such_field' }), /unknown field "no_such_field"/);
      assert.match(await refusal({ sysparm_query: 'ORDERBYDESC' }), /unknown field ""/);
    });

    it('when an operator is not one the simulator understands, then 400 naming the term', async () => {
      for (const query of ['numberSTARTSWITHCHG', 'stateNOT IN3,4', 'short_descriptionLIKEchange', 'numberINSTANCEOFtask', 'approvalISEMPTY']) {
        assert.match(await refusal({ sysparm_query: query }), /unsupported operator/, query);
      }
      assert.match(await refusal({ sysparm_query: 'EQ' }), /unsupported query term/);
    });

    it('when sysparm_offset is not a non-negative integer or is repeated, then 400', async () => {
      for (const offset of ['-1', 'abc', '1.5', ' 2']) {
        assert.match(await refusal({ sysparm_offset: offset }), /sysparm_offset must be a non-negative integer/, offset);
      }
      assert.match(await refusal([['sysparm_offset', '0'], ['sysparm_offset', '3']]), /sysparm_offset may be given once/);
      assert.match(await refusal([['sysparm_fields', 'number'], ['sysparm_fields', 'sys_id']]), /sysparm_fields may be given once/);
    });

    it('when ^OR has no condition before it, then 400', async () => {
      assert.match(await refusal({ sysparm_query: '^ORstate=4' }), /must follow a condition/);
      assert.match(await refusal({ sysparm_query: 'ORDERBYnumber^ORstate=4' }), /must follow a condition/);
    });

    it('when a value would mean something else on an instance, then 400', async () => {
      assert.match(await refusal({ sysparm_query: 'short_description=a^^b' }), /\^\^/);
      assert.match(await refusal({ sysparm_query: 'sys_updated_on>=javascript:gs.daysAgo(1)' }), /javascript:/);
      assert.match(await refusal({ sysparm_query: 'approvalIN' }), /at least one value/);
      assert.match(await refusal({ sysparm_query: 'sys_updated_on>=' }), /needs a value/);
    });

    it('when an integer field (state) is compared or sorted, then 400 rather than a text order that differs from the instance', async () => {
      assert.match(await refusal({ sysparm_query: 'state>=-3' }), /"state" is not ordered as text/);
      assert.match(await refusal({ sysparm_query: 'ORDERBYstate' }), /"state" is not ordered as text/);
    });

    it('when the approval table is given more than field=value terms, then it still refuses them', async () => {
      assert.match(await refusal({ sysparm_query: `sysapproval=${sysIdOf(1)}^ORDERBYapprover` }, APPROVALS), /field=value/);
      assert.match(await refusal({ sysparm_query: 'state!=approved' }, APPROVALS), /unsupported operator/);
      assert.match(await refusal({ sysparm_offset: 'x' }, APPROVALS), /sysparm_offset/);
    });
  });
});
