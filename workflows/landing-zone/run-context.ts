/**
 * What every landing-zone run (create, update, decommission) sets up first: the approval gate and
 * the handlers that answer `status` and deliver approvals, its saga, and its keys and audit trail.
 */
import { setHandler, workflowInfo, type QueryDefinition } from '@temporalio/workflow';
import type { ApplyRequest } from '../../activities/ports/cluster-target';
import type { RunView } from '../../shared/contracts/run';
import { temporalUiLink } from '../../shared/temporal-ui';
import { ApprovalGate, listenForDecisions, type DecisionContext } from '../shared/approval-gate';
import { changeCloser } from '../shared/compensation';
import type { RunTracker } from '../shared/run-tracker';
import { Saga } from '../shared/saga';
import { changes, notifying } from './operation-activities';

export function landingZoneRunContext<Answer extends RunView, View extends Answer>(
  tracker: RunTracker<View>,
  statusQuery: QueryDefinition<Answer>,
  /** Who may approve the run's change (the requester may not). */
  decisions: DecisionContext,
) {
  const { workflowId, runId, namespace } = workflowInfo();
  // The change the run opened, once tracker.recordChange has it.
  const changeNumber = (): string | undefined => tracker.view().change?.number;
  const gate = new ApprovalGate(tracker, changeNumber, () => decisions);
  setHandler(statusQuery, () => tracker.view());
  listenForDecisions(gate);
  /** Idempotency key of one step toward an outside system: `<workflowId>/<runId>/<step>`. */
  const key = (step: string): string => `${workflowId}/${runId}/${step}`;
  return {
    runId,
    gate,
    saga: new Saga(),
    key,
    /** The audit trail of the run's cluster-target commits (title, run, change). */
    audit: (title: string): ApplyRequest['audit'] => ({ title, deploymentId: workflowId, runId, changeNumber: changeNumber() }),
    closeChange: changeCloser(tracker, (request) => changes.closeChange(request)),
    /** The `notify` step of an update or decommission: what the run did, as its summary lines, to the owners. */
    notifyOwners: (
      owners: { emails: string[]; group: string },
      message: { subject: string; intro: string; summary: string[]; links: { label: string; url: string }[]; temporalUiUrl: string },
    ) =>
      tracker.step(
        'notify' as View['stage'],
        () =>
          notifying.sendNotification({
            to: owners.emails,
            group: owners.group,
            subject: message.subject,
            body: [message.intro, ...message.summary.map((line) => `- ${line}`)].join('\n'),
            links: [
              ...message.links,
              { label: 'Temporal run', url: temporalUiLink(message.temporalUiUrl, namespace, workflowId, runId) },
            ],
            idempotencyKey: key('notify'),
          }),
        (n) => `message ${n.messageId}`,
      ),
  };
}
