/**
 * Runs started by the previous release replay with today's workflow code. The fixtures in
 * test/fixtures/histories are real histories recorded with commit c047105 (before reported
 * decisions were verified in ServiceNow, and before the rescan and change-window steps), their
 * payloads decoded (see the README there). A run in flight during an upgrade continues on the new
 * code from its history: any command the new code issues differently fails its next workflow task
 * with a DeterminismViolationError, and the run is stuck until it is fixed or reset.
 *
 * No Temporal server and no payload codec: the workflows are replayed from the files, with the
 * bundle the worker builds (failure converter included).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Worker } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../../shared/codec/payload-encryption';
import { quietWorkerRuntime, workflowBundle } from '../helpers/temporal';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');

/** Each fixture, what the old code did in it, and how its history ends. */
const CASES: { name: string; story: string; lastEvent: string }[] = [
  { name: 'deploy-staging-approved-webhook', story: 'staging, approved in ServiceNow, the webhook signalled the run', lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED' },
  { name: 'deploy-staging-rejected-webhook', story: 'staging, rejected in ServiceNow, the webhook signalled the run', lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED' },
  { name: 'deploy-staging-awaiting-approval', story: 'staging, still waiting for approval, the old poller scheduled', lastEvent: 'EVENT_TYPE_TIMER_STARTED' },
  { name: 'deploy-staging-approved-poll', story: 'staging, approved with the webhook lost, learnt by the old poller', lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED' },
  { name: 'deploy-dev-no-approval', story: 'dev, no approval needed', lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED' },
  { name: 'landing-zone-prod-approved-webhook', story: 'landing zone with prod, approved in ServiceNow, the webhook signalled the run', lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED' },
];

type ProtoJson = { fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null };

/**
 * `historyFromJSON`, also where npm nests one protobufjs copy under @temporalio/common and another
 * under @temporalio/proto (as in this project's lockfile, because @grpc/proto-loader keeps
 * protobufjs 7 at the top): the SDK helper then parses with the copy that did not build the
 * History type and throws "type must be a Type". The same parse with the copy that built it.
 */
function loadHistory(json: unknown): History {
  try {
    return historyFromJSON(json);
  } catch (error) {
    if (!(error instanceof TypeError && error.message === 'type must be a Type')) throw error;
  }
  const { fromJson } = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
  const root = patchProtobufRoot(proto as unknown as Record<string, unknown>) as unknown as { lookupType(name: string): unknown };
  const history = fromJson(root.lookupType('temporal.api.history.v1.History'), json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('invalid history');
  return history;
}

interface JsonEvent {
  eventType: string;
}

function readFixture(name: string): { json: { events: JsonEvent[] }; text: string } {
  const text = readFileSync(join(FIXTURES, `${name}.json`), 'utf8');
  return { json: JSON.parse(text) as { events: JsonEvent[] }, text };
}

before(() => {
  quietWorkerRuntime();
});

describe('replaying runs of the previous release (c047105) with the current workflow code', () => {
  it('when the fixtures are listed, then every history file in the folder is replayed below', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    assert.deepEqual(files, CASES.map((c) => c.name).sort());
  });

  for (const { name, story, lastEvent } of CASES) {
    it(`when a run from before (${story}) is replayed, then the current code issues the same commands`, async () => {
      const { json, text } = readFixture(name);
      // Plain payloads only: replay uses no codec, and no key is committed.
      assert.ok(!text.includes(Buffer.from(ENCRYPTED_ENCODING).toString('base64')), `${name} holds an encrypted payload`);
      assert.equal(json.events.at(-1)?.eventType, lastEvent, `${name} ends as recorded`);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: name }, loadHistory(json));
    });
  }
});
