/**
 * A deploy run's side of its lane (ADR 15): it joins when it starts, may be superseded by a newer
 * request until it holds the lane, waits its turn (`queued`) before it changes the cluster, and
 * leaves when it has ended, compensation included.
 *
 * How the run talks to its lane: runs started since ADR 19 (`local`) join, request and leave with
 * local activities; older runs (`signals`) replay with the activity and signals they recorded.
 */
import { laneLocalOp, laneOp } from '../shared/activity-options';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeployLaneActivities } from '../../activities/deploy-lanes';
import {
  deployLaneId,
  laneGrantedSignal,
  laneLeaveSignal,
  laneQueuedSignal,
  laneRequestSignal,
  laneSupersededSignal,
  type LaneMember,
  type LaneRef,
} from '../../shared/contracts/deploy-lane';
import type { DeploymentStatusView } from '../../shared/contracts/deploy';
import type { DeployRequest } from '../../shared/domain';
import { ErrorType } from '../../shared/errors';
import type { RunTracker } from '../shared/run-tracker';

const lanes = proxyActivities<DeployLaneActivities>({
  ...laneOp,
  summary: 'join the deploy lane of this service and environment',
});
const local = {
  join: proxyLocalActivities<DeployLaneActivities>({ ...laneLocalOp, summary: 'join the deploy lane of this service and environment' }),
  request: proxyLocalActivities<DeployLaneActivities>({ ...laneLocalOp, summary: 'ask the deploy lane for the turn to change the cluster' }),
  joinAndRequest: proxyLocalActivities<DeployLaneActivities>({ ...laneLocalOp, summary: 'join the deploy lane and ask for the turn to change the cluster' }),
  leave: proxyLocalActivities<DeployLaneActivities>({ ...laneLocalOp, summary: 'hand the deploy lane on' }),
};

/** `signals`: the activity and signals of runs started before ADR 19; `local`: local activities. */
export type LaneProtocol = 'signals' | 'local';

export class LaneMembership {
  private readonly laneId: string;
  private readonly taskQueue: string;
  private readonly self: LaneMember;
  /** Set before the join is sent: a run that may have joined leaves, one that never did has nothing to leave. */
  private mayHaveJoined = false;
  private granted = false;
  private holding = false;
  private left = false;
  private queuedBehind: LaneRef | undefined;
  private supersededBy: LaneRef | undefined;
  private interruptible: CancellationScope | undefined;

  constructor(
    private readonly request: Pick<DeployRequest, 'project' | 'service' | 'environment'>,
    private readonly tracker: RunTracker<DeploymentStatusView>,
    private readonly protocol: LaneProtocol,
  ) {
    // The execution's start (the request's arrival at Temporal), not the first workflow task's.
    const { workflowId, runId, startTime, taskQueue } = workflowInfo();
    this.laneId = deployLaneId(request, taskQueue);
    this.taskQueue = taskQueue;
    this.self = { workflowId, runId, startedAt: startTime.getTime() };
    setHandler(laneGrantedSignal, () => void (this.granted = true));
    setHandler(laneQueuedSignal, ({ behind }) => void (this.queuedBehind = behind));
    setHandler(laneSupersededSignal, ({ by }) => {
      if (this.holding || this.supersededBy) return;
      this.supersededBy = by;
      this.interruptible?.cancel();
    });
  }

  async join(): Promise<void> {
    const joining = this.joining();
    this.mayHaveJoined = true;
    await this.untilSuperseded(() => (this.protocol === 'local' ? local.join.joinDeployLane(joining) : lanes.joinDeployLane(joining)));
  }

  /**
   * Joins from inside `untilSuperseded` (its scope already makes the join interruptible): a run that
   * was to join late (ADR 21) but is about to wait for its change window.
   */
  async joinBeforeWaiting(): Promise<void> {
    this.mayHaveJoined = true;
    await local.join.joinDeployLane(this.joining());
  }

  /**
   * Runs the steps before the first change to the cluster; a newer request interrupts them. Steps
   * that must not be cut short (opening the change) run non-cancellable inside.
   */
  async untilSuperseded<T>(work: () => Promise<T>): Promise<T> {
    if (this.supersededBy) throw this.supersededFailure(this.supersededBy);
    const scope = new CancellationScope();
    this.interruptible = scope;
    try {
      return await scope.run(work);
    } catch (error) {
      if (this.supersededBy && isCancellation(error)) throw this.supersededFailure(this.supersededBy);
      throw error;
    } finally {
      this.interruptible = undefined;
    }
  }

  /** Waits until this run may change the cluster: `queued` while another run of the service does. */
  async acquire(): Promise<void> {
    const ref = { workflowId: this.self.workflowId, runId: this.self.runId };
    await this.untilSuperseded(async () => {
      await this.requestTurn(ref);
      await condition(() => this.granted || this.queuedBehind !== undefined);
      if (this.granted) return; // the lane was free: nothing to record
      const behind = this.queuedBehind;
      await this.tracker.step(
        'queue',
        async () => {
          this.tracker.patch((s) => (s.queuedBehind = behind ? { deploymentId: behind.workflowId, runId: behind.runId } : undefined));
          this.tracker.setStatus('queued');
          await condition(() => this.granted);
          this.tracker.patch((s) => delete s.queuedBehind);
          this.tracker.setStatus('running');
        },
        () => (behind ? `waited for ${behind.workflowId} (run ${behind.runId}) to end` : undefined),
      );
    });
    this.holding = true;
  }

  /** What a join sends: the lane, and this run as a member. */
  private joining(): { laneId: string; taskQueue: string; lane: Pick<DeployRequest, 'project' | 'service' | 'environment'>; member: LaneMember } {
    const { project, service, environment } = this.request;
    return { laneId: this.laneId, taskQueue: this.taskQueue, lane: { project, service, environment }, member: this.self };
  }

  /**
   * Asks the lane for the turn; a lane that is gone (terminated by an operator) is joined afresh. A
   * run that has not joined yet (it waited for nothing, ADR 21) joins and asks in one local activity.
   */
  private async requestTurn(ref: LaneRef): Promise<void> {
    if (this.protocol === 'local' && !this.mayHaveJoined) {
      this.mayHaveJoined = true;
      // `holding`: this run started the lane as its holder; no grant will come, none is needed.
      if ((await local.joinAndRequest.joinDeployLaneAndRequestTurn(this.joining())) === 'holding') this.granted = true;
      return;
    }
    if (this.protocol === 'local') {
      // The join that follows makes this run a member, so the lane cannot end before the next request.
      while (!(await local.request.requestLaneTurn({ laneId: this.laneId, run: ref }))) {
        log.warn('the deploy lane was gone; joining it again', { lane: this.laneId });
        await this.join();
      }
      return;
    }
    try {
      await getExternalWorkflowHandle(this.laneId).signal(laneRequestSignal, ref);
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('the deploy lane was gone; joining it again', { lane: this.laneId, error: String(error) });
      await this.join();
      await getExternalWorkflowHandle(this.laneId).signal(laneRequestSignal, ref);
    }
  }

  /** Hands the lane on (or leaves the queue), once. Never fails the run: an ended lane needs nothing. */
  async leave(): Promise<void> {
    if (this.left || !this.mayHaveJoined) return;
    this.left = true;
    const ref = { workflowId: this.self.workflowId, runId: this.self.runId };
    await CancellationScope.nonCancellable(async () => {
      if (this.protocol === 'local') {
        // `false`: the lane has ended (terminated), so there is nothing to hand on.
        if (!(await local.leave.leaveDeployLane({ laneId: this.laneId, run: ref }))) log.info('the deploy lane had ended before the run left it', { lane: this.laneId });
        return;
      }
      try {
        await getExternalWorkflowHandle(this.laneId).signal(laneLeaveSignal, ref);
      } catch (error) {
        log.info('the deploy lane could not be told that the run ended', { lane: this.laneId, error: String(error) });
      }
    });
  }

  private supersededFailure(by: LaneRef): ApplicationFailure {
    this.tracker.patch((s) => (s.supersededBy = { deploymentId: by.workflowId, runId: by.runId }));
    return ApplicationFailure.create({
      type: ErrorType.DeploymentSuperseded,
      nonRetryable: true,
      message: `superseded by ${by.workflowId} (run ${by.runId}), a newer request for ${this.request.service} in ${this.request.project}/${this.request.environment}; nothing was applied`,
      details: [by],
    });
  }
}
