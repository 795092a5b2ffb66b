/**
 * Runs started by earlier releases replay with today's workflow code (`npm run test:replay`). Each
 * folder of test/fixtures/histories is one release, named after its commit, holding real histories
 * of every workflow recorded with that commit's code, payloads decoded (see the README there and
 * scripts/record-histories.ts). A run in flight during an upgrade continues on the new code from
 * its history: any command the new code issues differently fails its next workflow task with a
 * DeterminismViolationError, and the run is stuck until it is fixed or reset. Such a change needs a
 * `patched()` guard: see docs/operations/changing-workflows.md.
 *
 * No Temporal server and no payload codec: the workflows are replayed from the files, with the
 * bundle the worker builds (failure converter included). Each history names its workflow type in
 * its WorkflowExecutionStarted event; the replay runs that function of the bundle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { ENCRYPTED_ENCODING } from '../../shared/codec/payload-encryption';
import { loadHistory } from '../helpers/history-json';
import { quietWorkerRuntime, workflowBundle } from '../helpers/temporal';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');

const DEPLOY = 'deployWorkflow';
const LZ_CREATE = 'landingZoneWorkflow';
const LZ_UPDATE = 'landingZoneUpdateWorkflow';
const LZ_DECOMMISSION = 'landingZoneDecommissionWorkflow';
const LANE = 'deployLaneWorkflow';

const COMPLETED = 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED';
const FAILED = 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED';
const CANCELED = 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED';
const TIMER_STARTED = 'EVENT_TYPE_TIMER_STARTED';
const TASK_COMPLETED = 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED';

interface Case {
  name: string;
  workflowType: string;
  /** What the release's code did in it. */
  story: string;
  /** How the history ends: the run's end, or (a run still waiting) the last command it issued. */
  lastEvent: string;
}

interface Release {
  commit: string;
  about: string;
  cases: Case[];
}

/** The 27 scenarios `scripts/record-histories.ts` records, as recorded at f949d99. */
const RECORDED_SCENARIOS: Case[] = [
  { name: 'deploy-dev-no-approval', workflowType: DEPLOY, story: 'dev, no approval (standard change); succeeded', lastEvent: COMPLETED },
  { name: 'deploy-staging-approved-webhook', workflowType: DEPLOY, story: 'staging, approved in ServiceNow, webhook → API → update, verified; succeeded', lastEvent: COMPLETED },
  { name: 'deploy-staging-approved-signal', workflowType: DEPLOY, story: 'staging, webhook lost, the decision signalled and verified in ServiceNow; succeeded', lastEvent: COMPLETED },
  { name: 'deploy-staging-approved-poll', workflowType: DEPLOY, story: 'staging, webhook lost, learnt by the poller; succeeded', lastEvent: COMPLETED },
  { name: 'deploy-staging-rejected-webhook', workflowType: DEPLOY, story: 'staging, rejected in ServiceNow; ended rejected', lastEvent: FAILED },
  { name: 'deploy-hurry-expired', workflowType: DEPLOY, story: 'nobody approved within the 3 s deadline; ended expired', lastEvent: FAILED },
  { name: 'deploy-recheck-rescanned', workflowType: DEPLOY, story: 'approved after the scan grew too old: scanned again, then deployed', lastEvent: COMPLETED },
  { name: 'deploy-staging-cancelled-awaiting-approval', workflowType: DEPLOY, story: 'cancelled while awaiting approval', lastEvent: CANCELED },
  { name: 'deploy-dev-rolled-back', workflowType: DEPLOY, story: 'the mesh commit refused after the deploy: the deploy reverted; rolled_back', lastEvent: FAILED },
  { name: 'deploy-dev-cancelled-while-deploying', workflowType: DEPLOY, story: 'cancelled while the mesh was being applied: applied steps undone', lastEvent: CANCELED },
  { name: 'deploy-prod-scan-violation', workflowType: DEPLOY, story: 'a HIGH finding for prod: failed before any side effect', lastEvent: FAILED },
  { name: 'deploy-staging-awaiting-approval', workflowType: DEPLOY, story: 'still waiting for approval: poller and deadline timer', lastEvent: TIMER_STARTED },
  { name: 'landing-zone-create-dev', workflowType: LZ_CREATE, story: 'dev and staging, no approval; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-create-prod-approved', workflowType: LZ_CREATE, story: 'with prod, approved; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-create-prod-rejected', workflowType: LZ_CREATE, story: 'with prod, rejected', lastEvent: FAILED },
  { name: 'landing-zone-create-expired', workflowType: LZ_CREATE, story: 'nobody approved within the 3 s deadline; expired', lastEvent: FAILED },
  { name: 'landing-zone-create-cancelled-awaiting-approval', workflowType: LZ_CREATE, story: 'cancelled while awaiting approval', lastEvent: CANCELED },
  { name: 'landing-zone-create-rolled-back', workflowType: LZ_CREATE, story: 'source repository name taken: created resources undone; rolled_back', lastEvent: FAILED },
  { name: 'landing-zone-create-awaiting-approval', workflowType: LZ_CREATE, story: 'still waiting for approval', lastEvent: TIMER_STARTED },
  { name: 'landing-zone-update-add-environment', workflowType: LZ_UPDATE, story: 'staging added, no approval; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-update-quota', workflowType: LZ_UPDATE, story: 'quota changed in every namespace; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-update-prod-approved', workflowType: LZ_UPDATE, story: 'prod added, approved; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-update-rolled-back', workflowType: LZ_UPDATE, story: 'the dev quota commit refused: both namespace steps undone; rolled_back', lastEvent: FAILED },
  { name: 'landing-zone-update-awaiting-approval', workflowType: LZ_UPDATE, story: 'prod added, still waiting for approval', lastEvent: TIMER_STARTED },
  { name: 'landing-zone-decommission-refused-in-use', workflowType: LZ_DECOMMISSION, story: 'a service deployed, not forced: refused, the freeze undone', lastEvent: FAILED },
  { name: 'landing-zone-decommission-forced', workflowType: LZ_DECOMMISSION, story: 'forced: everything removed; succeeded', lastEvent: COMPLETED },
  { name: 'landing-zone-decommission-prod-approved', workflowType: LZ_DECOMMISSION, story: 'with prod, approved; succeeded', lastEvent: COMPLETED },
];

/** Where the runs of ba64dcd differ from f949d99's: waiting runs are prompted by the approval sweeper. */
const SWEEPER_STORIES: Record<string, string> = {
  'deploy-staging-approved-poll': 'staging, webhook lost, prompted by the approval sweeper; succeeded',
  'deploy-staging-awaiting-approval': 'still waiting for approval: the deadline timer only',
};

/** The deploy lanes `scripts/record-histories.ts` records since e3cb2dd (recorded then, and with 292b202's code). */
const LANE_SCENARIOS: Case[] = [
  { name: 'deploy-lane-one-run', workflowType: LANE, story: 'one run joined, asked, was granted and left; lingering', lastEvent: TIMER_STARTED },
  { name: 'deploy-lane-contended', workflowType: LANE, story: 'three runs: one queued behind the holder, then superseded by the third, granted when the holder left; lingering', lastEvent: TIMER_STARTED },
];

/** Every release folder, and each fixture in it. A new folder must be listed here (the first test checks). */
const RELEASES: Release[] = [
  {
    commit: 'c047105',
    about: 'before reported decisions were verified in ServiceNow, and before the rescan and change-window steps',
    cases: [
      { name: 'deploy-staging-approved-webhook', workflowType: DEPLOY, story: 'staging, approved in ServiceNow, the webhook signalled the run', lastEvent: COMPLETED },
      { name: 'deploy-staging-rejected-webhook', workflowType: DEPLOY, story: 'staging, rejected in ServiceNow, the webhook signalled the run', lastEvent: FAILED },
      { name: 'deploy-staging-awaiting-approval', workflowType: DEPLOY, story: 'staging, still waiting for approval, the old poller scheduled', lastEvent: TIMER_STARTED },
      { name: 'deploy-staging-approved-poll', workflowType: DEPLOY, story: 'staging, approved with the webhook lost, learnt by the old poller', lastEvent: COMPLETED },
      { name: 'deploy-dev-no-approval', workflowType: DEPLOY, story: 'dev, no approval needed', lastEvent: COMPLETED },
      { name: 'landing-zone-prod-approved-webhook', workflowType: LZ_CREATE, story: 'landing zone with prod, approved in ServiceNow, the webhook signalled the run', lastEvent: COMPLETED },
    ],
  },
  {
    commit: 'f949d99',
    about: 'decisions verified in ServiceNow (patch approval-verified), rescan and change window; landing-zone update and decommission; before deploy lanes',
    cases: RECORDED_SCENARIOS,
  },
  {
    commit: 'ba64dcd',
    about: 'deploy lanes, the approval sweeper (patch approval-sweep: waiting runs schedule nothing), runs leaving their lane before their final status (patch leave-lane-before-final-status)',
    // The same scenarios; two now take the sweeper's path.
    cases: RECORDED_SCENARIOS.map((c) => ({ ...c, story: SWEEPER_STORIES[c.name] ?? c.story })),
  },
  {
    commit: '292b202',
    about: 'deploy lanes before ADR 19 (signal commands; a lane whose last run left stayed open), recorded for the lane scenarios only',
    // That code never started the linger timer once its last run had left: the history ends with the leave's task.
    cases: LANE_SCENARIOS.map((c) => ({ ...c, story: c.story.replace('lingering', 'left open'), lastEvent: TASK_COMPLETED })),
  },
  {
    commit: 'e3cb2dd',
    about: 'ADR 19: lane calls as local activities (patches deploy-run-lean-2026-11, deploy-lane-lean-2026-11), one final upsert, lanes that end when empty',
    cases: [...RECORDED_SCENARIOS.map((c) => ({ ...c, story: SWEEPER_STORIES[c.name] ?? c.story })), ...LANE_SCENARIOS],
  },
  {
    commit: '97b331e',
    about: 'ADR 21: upserts only when a value changes (patch deploy-run-fewer-events-2026-11), dev runs join their lane when they ask, or start it holding',
    cases: [
      ...RECORDED_SCENARIOS.map((c) => ({ ...c, story: SWEEPER_STORIES[c.name] ?? c.story })),
      ...LANE_SCENARIOS.map((c) => (c.name === 'deploy-lane-one-run' ? { ...c, story: 'one run started it holding it, then left; lingering' } : c)),
    ],
  },
];

interface JsonEvent {
  eventId: string;
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
}

interface JsonHistory {
  events: JsonEvent[];
}

function readFixture(commit: string, name: string): { json: JsonHistory; text: string } {
  const text = readFileSync(join(FIXTURES, commit, `${name}.json`), 'utf8');
  return { json: JSON.parse(text) as JsonHistory, text };
}

/** The workflow a history is of, as its first event names it. */
function workflowTypeOf(history: JsonHistory): string | undefined {
  const [first] = history.events;
  return first?.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' ? first.workflowExecutionStartedEventAttributes?.workflowType?.name : undefined;
}

async function replay(history: JsonHistory, replayName: string): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName }, loadHistory(history));
}

/** The patch ids of a history's `patched()` markers (Temporal's `core_patch` markers, id in `patch-data`). */
function patchIds(history: JsonHistory): string[] {
  return history.events.flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

/**
 * Turns the `patch` marker into a deprecated marker of another patch, which replay skips: to the
 * code, the run never recorded `patch`, so `patched()` answers false as for a run from before it.
 */
function withoutPatchMarker(history: JsonHistory, patch: string): void {
  for (const event of history.events) {
    const payload = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
    if (!payload?.data) continue;
    const data = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { id: string };
    if (data.id === patch) payload.data = Buffer.from(JSON.stringify({ id: 'some-other-patch', deprecated: true })).toString('base64');
  }
  assert.ok(!patchIds(history).includes(patch));
}

before(() => {
  quietWorkerRuntime();
});

describe('replaying runs of earlier releases with the current workflow code', () => {
  it('when the fixture folders are listed, then every release folder and every history in it is replayed below', () => {
    const folders = readdirSync(FIXTURES).filter((f) => statSync(join(FIXTURES, f)).isDirectory()).sort();
    assert.deepEqual(folders, RELEASES.map((r) => r.commit).sort(), 'a release folder without an entry in RELEASES (or the reverse)');
    for (const { commit, cases } of RELEASES) {
      const files = readdirSync(join(FIXTURES, commit)).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
      assert.deepEqual(files, cases.map((c) => c.name).sort(), `fixtures of ${commit}`);
    }
  });

  for (const { commit, about, cases } of RELEASES) {
    describe(`release ${commit} (${about})`, () => {
      for (const { name, workflowType, story, lastEvent } of cases) {
        it(`when a ${workflowType} run of ${commit} (${story}) is replayed, then the current code issues the same commands`, async () => {
          const { json, text } = readFixture(commit, name);
          // Plain payloads only: replay uses no codec, and no key is committed.
          assert.ok(!text.includes(Buffer.from(ENCRYPTED_ENCODING).toString('base64')), `${name} holds an encrypted payload`);
          assert.equal(workflowTypeOf(json), workflowType, `${name} is a ${workflowType} history`);
          assert.equal(json.events.at(-1)?.eventType, lastEvent, `${name} ends as recorded`);
          await replay(json, `${commit}/${name}`);
        });
      }
    });
  }
});

describe('the replay suite detects non-deterministic changes (negative controls)', () => {
  /** The controls below were written against this release's histories (the approval-verified marker with the poller after it). */
  const newest = RELEASES.find((r) => r.commit === 'f949d99') as Release;
  const lanesRelease = RELEASES.find((r) => r.commit === 'ba64dcd') as Release;
  const lean = RELEASES.find((r) => r.commit === 'e3cb2dd') as Release;
  const fewerEvents = RELEASES.find((r) => r.commit === '97b331e') as Release;

  it('when a recorded run scheduled an activity the code no longer calls at that point, then replay fails with a DeterminismViolationError', async () => {
    const { json } = readFixture(newest.commit, 'deploy-dev-no-approval');
    const render = json.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'renderRelease');
    assert.ok(render?.activityTaskScheduledEventAttributes?.activityType, 'the fixture renders the release');
    render.activityTaskScheduledEventAttributes.activityType.name = 'renderChart';
    await assert.rejects(replay(json, 'altered: renderChart'), DeterminismViolationError);
  });

  it('when a run recorded with the approval-verified patch is replayed as if the marker were absent, then the old branch diverges and replay fails', async () => {
    const { json } = readFixture(newest.commit, 'deploy-staging-approved-webhook');
    assert.ok(patchIds(json).includes('approval-verified'), 'the run took the patched branch');
    withoutPatchMarker(json, 'approval-verified');
    assert.ok(!patchIds(json).includes('approval-verified'));
    // The pre-verification branch (no approval-polling marker either, so no poller) starts the
    // deadline timer where the run scheduled pollChangeVerdict.
    await assert.rejects(replay(json, 'altered: no approval-verified marker'), (error: unknown) => {
      assert.ok(error instanceof DeterminismViolationError, String(error));
      assert.match(error.message, /Timer machine does not handle this event: HistoryEvent\(id: \d+, ActivityTaskScheduled\)/);
      return true;
    });
  });

  it('when a run recorded with leave-lane-before-final-status is replayed as if the marker were absent, then the old order (final status, then leave) diverges and replay fails', async () => {
    const { json } = readFixture(lanesRelease.commit, 'deploy-dev-no-approval');
    assert.ok(patchIds(json).includes('leave-lane-before-final-status'), 'the run took the patched branch');
    withoutPatchMarker(json, 'leave-lane-before-final-status');
    await assert.rejects(replay(json, 'altered: no leave-lane-before-final-status marker'), DeterminismViolationError);
  });

  it('when a run recorded with deploy-run-lean-2026-11 is replayed as if the marker were absent, then the older lane messages diverge and replay fails', async () => {
    const { json } = readFixture(lean.commit, 'deploy-dev-no-approval');
    assert.deepEqual(patchIds(json), ['deploy-run-lean-2026-11'], 'one patch marker stands for the earlier lane patches');
    withoutPatchMarker(json, 'deploy-run-lean-2026-11');
    await assert.rejects(replay(json, 'altered: no deploy-run-lean-2026-11 marker'), DeterminismViolationError);
  });

  it('when a run recorded with deploy-run-fewer-events-2026-11 is replayed as if the marker were absent, then the upserts it left out diverge and replay fails', async () => {
    const { json } = readFixture(fewerEvents.commit, 'deploy-dev-no-approval');
    assert.deepEqual(patchIds(json), ['deploy-run-fewer-events-2026-11'], 'one patch marker stands for every earlier one');
    withoutPatchMarker(json, 'deploy-run-fewer-events-2026-11');
    await assert.rejects(replay(json, 'altered: no deploy-run-fewer-events-2026-11 marker'), DeterminismViolationError);
  });

  it('when a lane recorded with deploy-lane-lean-2026-11 is replayed as if the marker were absent, then the signal commands it would send diverge and replay fails', async () => {
    const { json } = readFixture(lean.commit, 'deploy-lane-one-run');
    assert.deepEqual(patchIds(json), ['deploy-lane-lean-2026-11']);
    withoutPatchMarker(json, 'deploy-lane-lean-2026-11');
    await assert.rejects(replay(json, 'altered: no deploy-lane-lean-2026-11 marker'), DeterminismViolationError);
  });

  it('when the previous release is replayed, then its runs take the pre-patch branch: they carry no approval-verified marker', () => {
    for (const { name } of RELEASES[0]?.cases ?? []) assert.ok(!patchIds(readFixture(RELEASES[0]?.commit ?? '', name).json).includes('approval-verified'), name);
  });
});
