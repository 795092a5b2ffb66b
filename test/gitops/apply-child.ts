/**
 * Another worker process, for the cross-process tests: applies one request to a repository and
 * prints the result as JSON. Usage: node --import tsx apply-child.ts <repoDir> <key> <service>
 * [count]; with a count, applies that many at once (`<key>-<i>` to `<service>-<i>`, one group)
 * and prints the results as a JSON array.
 */
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import { applyRequest, location } from './helpers';

async function main(): Promise<void> {
  const [repoDir = '', key = '', service = '', count] = process.argv.slice(2);
  const target = createGitOpsClusterTarget({ repoDir });
  const result =
    count === undefined
      ? await target.apply(applyRequest(key, { location: location(service) }))
      : await Promise.all(Array.from({ length: Number(count) }, (_, i) => target.apply(applyRequest(`${key}-${i}`, { location: location(`${service}-${i}`) }))));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
