/**
 * Fills the worker's workflow bundle cache ahead of a start (CI, a dev machine after a pull), so the
 * worker finds its bundle instead of building it. Prints the bundle's path.
 *
 *   npx tsx scripts/build-workflow-bundle.ts [cacheDir]     default: WORKFLOW_BUNDLE_CACHE_DIR, else
 *                                                           node_modules/.cache/deploy-platform
 *
 * The cache key includes where the workflow sources are: a cache filled from the .ts sources serves
 * workers run with tsx, not the compiled dist/ of the image.
 */
import { deployWorkflowBundleOptions } from '../workers/deploy-worker';
import { loadWorkflowBundle } from '../workers/workflow-bundle';

async function main(): Promise<void> {
  const cacheDir = process.argv[2] ?? process.env.WORKFLOW_BUNDLE_CACHE_DIR;
  const { codePath } = await loadWorkflowBundle({
    bundleOptions: deployWorkflowBundleOptions,
    ...(cacheDir ? { cacheDir } : {}),
    log: (line) => console.error(line),
  });
  console.log(codePath);
}

main().catch((error: unknown) => {
  console.error(`build-workflow-bundle: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
