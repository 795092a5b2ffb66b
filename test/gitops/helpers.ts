/** Fixtures for the GitOps cluster target tests: temp repositories, requests, and a git reader. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ApplyRequest, TargetLocation } from '../../activities/ports/cluster-target';
import type { RenderedManifest } from '../../shared/domain';
import type { ErrorTypeName } from '../../shared/errors';

/** A fresh directory per test; the repository itself is `<tmp>/gitops`, which does not exist yet. */
export function tempRepo(): { repoDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'gitops-test-'));
  return { repoDir: join(root, 'gitops'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export type ServiceLocation = Extract<TargetLocation, { service: string }>;

export function location(service = 'ledger', component: ServiceLocation['component'] = 'app'): ServiceLocation {
  return { cluster: 'local', namespace: 'payments-dev', service, component };
}

export function manifest(kind: string, name: string, body = '', component: RenderedManifest['component'] = 'app'): RenderedManifest {
  const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
  return {
    apiVersion,
    kind,
    name,
    namespace: 'payments-dev',
    component,
    yaml: `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: payments-dev\n${body}`,
  };
}

export function applyRequest(key: string, overrides: Partial<ApplyRequest> = {}): ApplyRequest {
  return {
    idempotencyKey: key,
    location: location(),
    manifests: [manifest('Deployment', 'ledger', 'spec:\n  replicas: 1\n'), manifest('Service', 'ledger')],
    audit: { title: `Deploy ledger (${key})`, deploymentId: 'dep-1', runId: 'run-1', changeNumber: 'CHG0001' },
    ...overrides,
  };
}

export function dirOf(loc: TargetLocation): string {
  return loc.component === 'namespace'
    ? `clusters/${loc.cluster}/${loc.namespace}/_namespace`
    : `clusters/${loc.cluster}/${loc.namespace}/${loc.service}/${loc.component}`;
}

/** Reads and pokes the repository the way a person would, with the same isolation from global config. */
export function git(repoDir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=someone', '-c', 'user.email=someone@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: repoDir,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_GLOBAL: devNull, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

export function commitCount(repoDir: string): number {
  return Number(git(repoDir, 'rev-list', '--count', 'HEAD').trim());
}

export function filesAt(repoDir: string, path: string, revision = 'HEAD'): string[] {
  return git(repoDir, 'ls-tree', '-r', '--name-only', revision, '--', path).split('\n').filter(Boolean);
}

export function trailers(repoDir: string, revision = 'HEAD'): string {
  return git(repoDir, 'log', '-1', '--format=%(trailers:only,unfold)', revision).trim();
}

export function status(repoDir: string): string {
  return git(repoDir, 'status', '--porcelain', '--untracked-files=all').trim();
}

/** Asserts `promise` rejects with a non-retryable ApplicationFailure of `type`, and returns it. */
export async function rejectsWith(promise: Promise<unknown>, type: ErrorTypeName): Promise<ApplicationFailure> {
  const error: unknown = await promise.then(
    () => assert.fail(`expected ${type}, but it succeeded`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  assert.equal(error.type, type, error.message);
  assert.equal(error.nonRetryable, true);
  return error;
}
