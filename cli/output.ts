/**
 * What the CLI prints. With --json: each API answer as one line of JSON on stdout, as the API sent
 * it (several answers, e.g. while waiting, are several lines: `jq` reads them as they come).
 * Without: lines for people. Errors and warnings always go to stderr, as text.
 */
import type { CliError } from './errors';
import type { ProgressEvent } from './progress';
import type { ConfigEntry, DeploymentSummary, DeploymentView, LandingZoneOperation, LandingZoneView, RunSummary, RunView, StepRecord } from './types';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

export class Output {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A line for people (nothing in --json mode). */
  line(text = ''): void {
    if (!this.json) this.io.stdout(`${text}\n`);
  }

  lines(texts: string[]): void {
    for (const text of texts) this.line(text);
  }

  /** An API answer, in --json mode only. */
  data(value: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value)}\n`);
  }

  warn(text: string): void {
    this.io.stderr(`platformctl: ${text}\n`);
  }

  error(error: CliError): void {
    this.io.stderr(`platformctl: ${error.message}\n`);
    for (const detail of error.details) this.io.stderr(`  ${detail}\n`);
  }
}

/** Columns padded to the widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** Label/value pairs, aligned; pairs without a value are left out. */
export function fields(pairs: [string, string | undefined][]): string[] {
  const shown = pairs.filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

/** `12:03:05` (UTC) of an ISO time; the input itself when it is not one. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(11, 19);
}

/** `1m05s` between two ISO times. */
export function duration(fromIso: string | undefined, toIso: string | undefined): string | undefined {
  if (!fromIso || !toIso) return undefined;
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  return Number.isFinite(ms) && ms >= 0 ? formatMs(ms) : undefined;
}

/** `450ms`, `2s`, `1m05s`, `2h03m`. */
export function formatMs(ms: number): string {
  if (ms < 1000 && ms % 1000 !== 0) return `${ms}ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * One line per event, each starting with its time (UTC): `status=… stage=…` when the run moves on,
 * indented lines for what happened within it (a step that ended, the wait for approval, a refused
 * decision).
 */
export function progressLine(event: ProgressEvent): string {
  return `${clockTime(event.at)}  ${describeEvent(event)}`;
}

function describeEvent(event: ProgressEvent): string {
  switch (event.kind) {
    case 'status':
      return `status=${event.status} stage=${event.stage}${event.windowStart ? ` (approved; the change window opens at ${event.windowStart})` : ''}${event.behind ? ` (waiting for ${event.behind} to end)` : ''}${event.supersededBy ? ` (replaced by the newer ${event.supersededBy})` : ''}`;
    case 'step':
      return `  ${stepText(event.step)}`;
    case 'approval': {
      const change = event.change ? `change ${event.change}` : 'the change';
      const until = event.deadline ? `, approval deadline ${event.deadline}` : '';
      return `  waiting for approval of ${change}${until}${event.changeUrl ? ` (${event.changeUrl})` : ''}`;
    }
    case 'refused': {
      const { claimed, approver, via, reason } = event.refused;
      return `  approval.refused: ${claimed ?? 'a decision'} by ${approver ?? 'unknown'}${via ? ` via ${via}` : ''}: ${reason ?? 'no reason given'}`;
    }
  }
}

function stepText(step: StepRecord): string {
  return `${step.name} ${step.status}${step.detail ? `: ${step.detail}` : ''}`;
}

/** The last lines of a wait: how the run ended and, when it failed, why. */
export function endedLines(label: string, view: RunView): string[] {
  const took = duration(view.startedAt, view.endedAt);
  if (view.status === 'succeeded' || view.status === 'completed') return [`${label} ${view.status}${took ? ` in ${took}` : ''}`];
  const lines = [`${label} ended ${view.status}${view.error ? `: ${view.error.type}: ${view.error.message}` : ''}`];
  for (const failure of view.compensationErrors ?? []) lines.push(`  undo of ${failure.step} failed (needs a person): ${failure.message}`);
  return lines;
}

function stepRows(steps: StepRecord[]): string[] {
  if (steps.length === 0) return [];
  const rows = steps.map((step) => [
    step.name,
    step.status,
    step.startedAt ? clockTime(step.startedAt) : '',
    duration(step.startedAt, step.endedAt) ?? '',
    step.detail ?? '',
  ]);
  return ['', 'steps (UTC):', ...table(['STEP', 'STATUS', 'STARTED', 'TOOK', 'DETAIL'], rows).map((line) => `  ${line}`)];
}

function approvalText(view: RunView): string | undefined {
  const approval = view.approval;
  if (!approval?.required) return approval ? 'not required' : undefined;
  if (approval.decision) {
    const who = approval.approvers?.length ? approval.approvers.join(', ') : approval.approver;
    const because = approval.expiredBecause ? ` (${approval.expiredBecause})` : '';
    return `${approval.decision}${who ? ` by ${who}` : ''}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}${because}${approval.comment ? `: ${approval.comment}` : ''}`;
  }
  return `required${approval.deadline ? `, deadline ${approval.deadline}` : ''}`;
}

function runFields(view: RunView): [string, string | undefined][] {
  return [
    ['status', `${view.status}${view.stage ? ` (stage ${view.stage})` : ''}`],
    ['started', view.startedAt],
    ['ended', view.endedAt ? `${view.endedAt}${duration(view.startedAt, view.endedAt) ? ` (took ${duration(view.startedAt, view.endedAt)})` : ''}` : undefined],
    ['change', view.change ? `${view.change.number}${view.change.outcome ? ` (${view.change.outcome})` : ''}${view.change.url ? ` ${view.change.url}` : ''}` : undefined],
    ['approval', approvalText(view)],
    ['error', view.error ? `${view.error.type}: ${view.error.message}` : undefined],
    ['note', view.detailsUnavailable],
  ];
}

function refusedLines(view: RunView): string[] {
  const refused = view.approval?.refused ?? [];
  if (refused.length === 0) return [];
  return ['', 'refused approval decisions:', ...refused.map((entry) => `  ${entry.at ?? ''} ${entry.claimed ?? ''} by ${entry.approver ?? 'unknown'}${entry.via ? ` via ${entry.via}` : ''}: ${entry.reason ?? ''}`)];
}

function compensationLines(view: RunView): string[] {
  const failures = view.compensationErrors ?? [];
  if (failures.length === 0) return [];
  return ['', 'undo steps that failed (need a person):', ...failures.map((failure) => `  ${failure.step}: ${failure.message}`)];
}

export function deploymentLines(view: DeploymentView): string[] {
  const scan = view.scan;
  const scanText = scan
    ? `${scan.passed === false ? 'failed' : 'passed'}${scan.scanned === false ? ' (not scanned)' : ''}${scan.counts ? ` ${Object.entries(scan.counts).map(([severity, count]) => `${severity}=${count}`).join(' ')}` : ''}${scan.reason ? `: ${scan.reason}` : ''}`
    : undefined;
  return [
    ...fields([
      ['deployment', view.deploymentId],
      ['run', view.runId],
      ['project', view.project],
      ['service', view.service],
      ['environment', view.environment],
      ['image', view.image],
      ['requested by', view.requestedBy],
      ...runFields(view),
      ['scan', scanText],
      ['temporal ui', view.links?.temporalUi],
    ]),
    ...stepRows(view.steps ?? []),
    ...refusedLines(view),
    ...compensationLines(view),
  ];
}

function operationLines(operation: LandingZoneOperation): string[] {
  return [
    '',
    `last operation: ${operation.operation ?? 'operation'} (run ${operation.runId})`,
    ...fields(runFields(operation)).map((line) => `  ${line}`),
    ...(operation.summary ?? []).map((line) => `  - ${line}`),
  ];
}

export function landingZoneLines(view: LandingZoneView): string[] {
  const resources = view.resources;
  return [
    ...fields([
      ['project', view.project],
      ['tenant', view.tenant],
      ['class', view.projectClass],
      ['state', view.state],
      ['environments', view.environments?.join(', ')],
      ['requested by', view.requestedBy],
      ...runFields(view),
      ['namespaces', resources?.namespaces?.map((ns) => `${ns.namespace} (${ns.environment})`).join(', ')],
      ['image repository', resources?.imageRepository?.uri],
      ['source repository', resources?.sourceRepository?.cloneUrl],
      ['CI token', resources?.ciTokenSecretRef],
      ['temporal ui', view.links?.temporalUi],
    ]),
    ...stepRows(view.steps ?? []),
    ...compensationLines(view),
    ...(view.lastOperation ? operationLines(view.lastOperation) : []),
  ];
}

export function deploymentTable(items: DeploymentSummary[]): string[] {
  return table(
    ['DEPLOYMENT', 'STATUS', 'STAGE', 'CHANGE', 'STARTED', 'CLOSED'],
    items.map((item) => [item.deploymentId, item.status, item.stage ?? '', item.changeNumber ?? '', item.startedAt ?? '', item.closedAt ?? '']),
  );
}

export function runTable(items: RunSummary[]): string[] {
  return table(
    ['RUN', 'STATUS', 'STAGE', 'CHANGE', 'STARTED', 'CLOSED'],
    items.map((item) => [item.runId, item.status, item.stage ?? '', item.changeNumber ?? '', item.startedAt ?? '', item.closedAt ?? '']),
  );
}

export function configTable(entries: ConfigEntry[]): string[] {
  return table(
    ['KEY', 'VALUE', 'SCOPE', 'ENVIRONMENT', 'UPDATED BY'],
    entries.map((entry) => [
      entry.key,
      entry.secretRef !== undefined ? `secret ${entry.secretRef}` : (entry.value ?? ''),
      entry.scope,
      entry.environment ?? '(all)',
      entry.updatedBy ?? '',
    ]),
  );
}
