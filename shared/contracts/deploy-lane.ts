/**
 * The contract of a deploy lane: one per project/service/environment, a small workflow that lets
 * one deploy run at a time change the cluster and lets the newest request supersede older ones
 * that have not begun to (ADR 15). Importable from workflows, activities, the API and tests.
 */
import { defineSignal } from '@temporalio/workflow';
import type { DeployRequest } from '../domain';

export const DEPLOY_LANE_WORKFLOW_TYPE = 'deployLaneWorkflow';

/** A deploy run in a lane. `startedAt` (the run's start, epoch ms) orders requests: newest wins. */
export interface LaneMember {
  workflowId: string;
  runId: string;
  startedAt: number;
}

export interface LaneRef {
  workflowId: string;
  runId: string;
}

export interface DeployLaneInput {
  project: string;
  service: string;
  environment: string;
  /**
   * State carried over `continueAsNew`; on a lane's first run, the run that started it holding it
   * (ADR 21), or absent (a lane started by a join).
   */
  carried?: LaneSnapshot;
}

export interface LaneSnapshot {
  members: { member: LaneMember; phase: LanePhase }[];
  /** The newest run the lane has seen, also after it left: an older late joiner is superseded by it. */
  newest?: LaneMember;
}

/** joined: preparing (scan, approval); waiting: ready to change the cluster; holding: changing it. */
export type LanePhase = 'joined' | 'waiting' | 'holding';

/** What a lane tells one of its runs: its turn, whom it waits behind, or that a newer run replaced it. */
export type LaneEffect =
  | { kind: 'grant'; to: LaneRef }
  | { kind: 'queued'; to: LaneRef; behind: LaneRef }
  | { kind: 'supersede'; to: LaneRef; by: LaneRef };

/** Deploy run → lane. */
export const laneJoinSignal = defineSignal<[LaneMember]>('laneJoin');
export const laneRequestSignal = defineSignal<[LaneRef]>('laneRequest');
export const laneLeaveSignal = defineSignal<[LaneRef]>('laneLeave');

/** Lane → deploy run. */
export const laneGrantedSignal = defineSignal<[]>('laneGranted');
export const laneQueuedSignal = defineSignal<[{ behind: LaneRef }]>('laneQueued');
export const laneSupersededSignal = defineSignal<[{ by: LaneRef }]>('laneSuperseded');

/**
 * The lane's workflow id. Names are DNS labels (no dots), so the dot separator is unambiguous. The
 * task queue is part of it: platforms sharing one Temporal namespace (tests do) keep apart, and a
 * lane is always polled by the workers of the runs that join it.
 */
export function deployLaneId(request: Pick<DeployRequest, 'project' | 'service' | 'environment'>, taskQueue: string): string {
  return `lane.deploy.${request.project}.${request.service}.${request.environment}.${taskQueue}`;
}
