/**
 * Another worker process, for the cross-process tests: applies one request to a repository and
 * prints the result as JSON. Usage: node --import tsx apply-child.ts <repoDir> <key> <service>
 */
import { createGitOpsClusterTarget } from '../../activities/adapters/gitops';
import { applyRequest, location } from './helpers';

async function main(): Promise<void> {
  const [repoDir = '', key = '', service = ''] = process.argv.slice(2);
  const target = createGitOpsClusterTarget({ repoDir });
  const result = await target.apply(applyRequest(key, { location: location(service) }));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
