import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTemporalDevServer, type DevServer } from '../../scripts/lib/temporal-dev-server';
import { deployWorkflowBundleOptions } from '../../workers/deploy-worker';

let ownServer: Promise<DevServer> | undefined;

/**
 * The suite's Temporal server: the one `npm test` started (TEMPORAL_TEST_ADDRESS), or, when a file
 * is run on its own, a dev server of its own that stops when the process exits.
 */
export async function testTemporalAddress(): Promise<string> {
  const shared = process.env.TEMPORAL_TEST_ADDRESS;
  if (shared) return shared;
  if (!ownServer) {
    ownServer = startTemporalDevServer({ unref: true });
    process.once('SIGTERM', () => void stopOwnTemporal().finally(() => process.exit(143)));
  }
  return (await ownServer).address;
}

export async function stopOwnTemporal(): Promise<void> {
  if (ownServer) await (await ownServer).stop();
  ownServer = undefined;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflows once per test process (webpack takes seconds), as the worker would (failure converter included). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ ...deployWorkflowBundleOptions, logger: quietLogger });
  return bundle;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

let runtimeInstalled = false;

/** Worker SDK logs at WARN in tests: state changes at INFO drown the test report. */
export function quietWorkerRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
