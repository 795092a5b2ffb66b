/**
 * Nothing personal in plain text: an approver's name and comment reach a run (webhook signal,
 * status, the rejection's failure message), and the history the Temporal server stores must hold
 * them only encrypted. Failure messages and stack traces are not payloads, so this holds only
 * because the platform's failure converter moves them into an encrypted payload, on both sides of
 * the worker: failures the workflow throws (bundled converter) and failures of activities (the
 * worker's own). The tests search the stored protobuf bytes, so a name hiding in any event or
 * field fails them, and the failure message says which one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, FAILURE_SOURCE, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { payloadCodecFor } from '../../shared/codec/data-converter';
import { ENCRYPTED_ENCODING } from '../../shared/codec/payload-encryption';
import { trivyReport } from '../helpers/fixtures';
import { deploymentBody, startTestPlatform, uniqueDigest, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

/** Scenario C's scanner fails with a message naming a person, as an adapter's error might. */
const ACTIVITY_FAILURE_SERVICE = 'pii-activity';
const activityFailureName = `Xavier Conclave-${randomBytes(8).toString('hex')}`;

before(async () => {
  platform = await startTestPlatform({
    ports: (real) => ({
      scanner: {
        findings: async (request) => {
          if (!JSON.stringify(request.image).includes(`/${ACTIVITY_FAILURE_SERVICE}`)) return real.scanner.findings(request);
          throw ApplicationFailure.nonRetryable(`the registry refused the scan requested by ${activityFailureName}`, 'ConfigurationInvalid');
        },
      },
    }),
  });
});
after(async () => {
  await platform.stop();
});

/** Random hex makes each name unique: no other run, fixture or log line can contain it by chance. */
const unique = (): string => randomBytes(8).toString('hex');

interface Run {
  workflowId: string;
  runId: string;
  changeNumber: string;
}

/** A staging deployment (approval required), started through the API and waiting for its decision. */
async function waitingStagingRun(service: string): Promise<Run> {
  const image = `registry.example.com/payments/${service}@${uniqueDigest()}`;
  const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service, environment: 'staging', image, scanReport: trivyReport(image) }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const waiting = await platform.waitForStatus(started.body.deploymentId, 'awaiting_approval');
  assert.ok(waiting.change?.number, 'the run opened a change');
  return { workflowId: started.body.deploymentId, runId: started.body.runId, changeNumber: waiting.change.number };
}

/** The run's history exactly as the server stores it: every page, no codec, serialised to protobuf bytes. */
async function storedHistory(run: Pick<Run, 'workflowId' | 'runId'>): Promise<{ bytes: Buffer; events: temporal.api.history.v1.IHistoryEvent[] }> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await platform.client.workflowService.getWorkflowExecutionHistory({
      namespace: platform.config.temporal.namespace,
      execution: { workflowId: run.workflowId, runId: run.runId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  assert.ok(events.length > 5, `history of ${run.workflowId} has ${events.length} events`);
  const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
  return { bytes, events };
}

/** Every Payload anywhere in the events: inputs, results, signals, headers, search attributes, failures' encoded attributes. */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  const record = value as Record<string, unknown>;
  if (ArrayBuffer.isView(record.data) && record.metadata && typeof record.metadata === 'object') {
    found.push(record as Payload);
    return found;
  }
  for (const child of Object.values(record)) payloadsIn(child, found);
  return found;
}

/** What an authorised reader (a worker, the UI through the codec endpoint) can read: every payload decrypted. */
async function decodedText(events: temporal.api.history.v1.IHistoryEvent[]): Promise<string> {
  const decoded = await payloadCodecFor(platform.config).decode(payloadsIn(events));
  return decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
}

/** Where a string sits in the events: event type and field path, so a leak names what must change. */
function whereIs(events: temporal.api.history.v1.IHistoryEvent[], needle: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (value.includes(needle)) found.push(path);
    } else if (ArrayBuffer.isView(value)) {
      if (Buffer.from(value.buffer, value.byteOffset, value.byteLength).includes(needle)) found.push(`${path} (bytes)`);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    }
  };
  for (const event of events) {
    walk(event, `${temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'event'}#${String(event.eventId)}`);
  }
  return found;
}

function assertAbsent(stored: { bytes: Buffer; events: temporal.api.history.v1.IHistoryEvent[] }, secret: string, what: string): void {
  const at = stored.bytes.indexOf(Buffer.from(secret, 'utf8'));
  if (at !== -1) assert.fail(`${what} "${secret}" is in the stored history in plain text at byte ${at}, in: ${whereIs(stored.events, secret).join(', ') || '(no single field)'}`);
}

/** Every Failure in the events (an event's `failure`, an activity's `lastFailure`, each `cause`), with where it is. */
function failuresIn(events: temporal.api.history.v1.IHistoryEvent[]): { at: string; failure: temporal.api.failure.v1.IFailure }[] {
  const found: { at: string; failure: temporal.api.failure.v1.IFailure }[] = [];
  const walk = (value: unknown, path: string): void => {
    if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if ((key === 'failure' || key === 'lastFailure' || key === 'cause') && child && typeof child === 'object') {
        found.push({ at: `${path}.${key}`, failure: child as temporal.api.failure.v1.IFailure });
      }
      walk(child, `${path}.${key}`);
    }
  };
  for (const event of events) walk(event, `${temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'event'}#${String(event.eventId)}`);
  return found;
}

/**
 * Failures the platform's workers wrote (source TypeScriptSDK; the server's own, such as timeouts,
 * have none and name no person) keep their message and stack trace only in the encrypted payload.
 */
function assertFailuresEncoded(events: temporal.api.history.v1.IHistoryEvent[]): number {
  const ours = failuresIn(events).filter(({ failure }) => failure.source === FAILURE_SOURCE);
  for (const { at, failure } of ours) {
    assert.equal(failure.message, 'Encoded failure', `${at} has a plain message: ${failure.message}`);
    assert.equal(failure.stackTrace ?? '', '', `${at} has a plain stack trace`);
    assert.equal(Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING, `${at}: encoded attributes encrypted`);
  }
  return ours.length;
}

function assertPresent(bytes: Buffer, expected: string, what: string): void {
  assert.notEqual(bytes.indexOf(Buffer.from(expected, 'utf8')), -1, `${what} "${expected}" should be in the stored history in plain text (else the search proves nothing)`);
}

describe('no approver name, comment or failure message in stored history', () => {
  it('when an approver rejects with a comment, then history holds neither in plain text, yet the client and the codec endpoint read them back', async () => {
    const approverTag = unique();
    const commentTag = unique();
    const approver = `Zelda Quorum-${approverTag}`;
    const comment = `rejected because ${commentTag}`;
    const run = await waitingStagingRun('pii-reject');
    const decided = await platform.simulator('reject', run.changeNumber, approver, comment);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const view = await platform.waitForStatus(run.workflowId, 'rejected');

    // The client decodes the failure: the rejection is readable, not lost.
    const failure = await platform.client.workflow.getHandle(run.workflowId, run.runId).result().then(
      () => assert.fail('a rejected run fails'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    assert.ok(failure.cause instanceof ApplicationFailure, String(failure.cause));
    assert.equal(failure.cause.type, 'ApprovalRejected');
    assert.notEqual(failure.cause.message, 'Encoded failure', 'the client decoded the encrypted message');
    const clientReadable = `${failure.cause.message}\n${JSON.stringify(view)}`;
    assert.ok(clientReadable.includes(approver) && clientReadable.includes(comment), `the failure or the status names approver and comment: ${clientReadable}`);

    const stored = await storedHistory(run);
    const { bytes, events } = stored;
    for (const [secret, what] of [
      [approver, 'approver'],
      [approverTag, 'part of the approver name'],
      [comment, 'comment'],
      [commentTag, 'part of the comment'],
    ] as const) {
      assertAbsent(stored, secret, what);
    }
    assertPresent(bytes, 'deployWorkflow', 'the workflow type');
    assertPresent(bytes, run.changeNumber, 'the change number (a search attribute)');
    assertPresent(bytes, 'ApprovalRejected', 'the failure type');
    assert.ok(assertFailuresEncoded(events) >= 1, 'the rejection is at least one failure written by the worker');

    // The run's own failure carries its message only as an encrypted payload...
    const failed = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
    assert.ok(failed, 'the run ended with WorkflowExecutionFailed');
    assert.equal(failed.message, 'Encoded failure');
    assert.equal(failed.stackTrace ?? '', '');
    assert.ok(failed.encodedAttributes, 'message and stack trace moved into encoded_attributes');
    assert.equal(Buffer.from(failed.encodedAttributes.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING, 'and the codec encrypted them');
    // ...which the codec endpoint (what the Temporal UI calls for a failure's encoded attributes) decodes.
    const asJson = (p: Payload) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    });
    const viaEndpoint = await platform.http('POST', '/codec/decode', { payloads: [asJson(failed.encodedAttributes as Payload)] }, { headers: { 'X-Namespace': platform.config.temporal.namespace } });
    assert.equal(viaEndpoint.status, 200, JSON.stringify(viaEndpoint.body));
    const attributes: unknown = JSON.parse(Buffer.from(viaEndpoint.body.payloads[0].data, 'base64').toString('utf8'));
    assert.deepEqual((attributes as { message?: unknown }).message, failure.cause.message, 'the UI shows the same message the client reads');

    // Encrypted, not lost: whoever holds the key finds the approver and the comment in the history.
    const readable = await decodedText(events);
    assert.ok(readable.includes(approver), 'the approver is in the decrypted history');
    assert.ok(readable.includes(comment), 'the comment is in the decrypted history');
  });

  it('when an approver approves, then the run succeeds and history holds the approver only encrypted', async () => {
    const approverTag = unique();
    const approver = `Yorick Plenum-${approverTag}`;
    const comment = `fine by me ${unique()}`;
    const run = await waitingStagingRun('pii-approve');
    const decided = await platform.simulator('approve', run.changeNumber, approver, comment);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const done = await platform.waitForStatus(run.workflowId, 'succeeded');
    assert.ok(JSON.stringify(done).includes(approver), 'the status (decoded by the client) names the approver');

    const stored = await storedHistory(run);
    const { bytes, events } = stored;
    assertAbsent(stored, approver, 'approver');
    assertAbsent(stored, approverTag, 'part of the approver name');
    assertAbsent(stored, comment, 'comment');
    assertPresent(bytes, 'deployWorkflow', 'the workflow type');
    assertPresent(bytes, run.changeNumber, 'the change number (a search attribute)');
    assertFailuresEncoded(events);

    const readable = await decodedText(events);
    assert.ok(readable.includes(approver), 'the approver is in the decrypted history');
  });

  it('when an activity fails with a message naming someone, then the worker encodes that failure too, and the workflow still reads it', async () => {
    const image = `registry.example.com/payments/${ACTIVITY_FAILURE_SERVICE}@${uniqueDigest()}`;
    const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service: ACTIVITY_FAILURE_SERVICE, image }));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const view = await platform.waitForStatus(started.body.deploymentId, 'failed');
    // The workflow (in its sandbox) decoded the activity's failure: its status quotes the message.
    assert.ok(view.error?.message.includes(activityFailureName), JSON.stringify(view.error));

    const stored = await storedHistory({ workflowId: started.body.deploymentId, runId: started.body.runId });
    assertAbsent(stored, activityFailureName, 'the name in the activity failure');
    assertFailuresEncoded(stored.events);
    assert.ok(
      failuresIn(stored.events).some(({ at, failure }) => at.startsWith('EVENT_TYPE_ACTIVITY_TASK_FAILED') && failure.source === FAILURE_SOURCE),
      'the activity failure itself is in the history, encoded',
    );
    assert.ok((await decodedText(stored.events)).includes(activityFailureName), 'and decrypts');
  });
});
