/**
 * The GitOps cluster target alone, as a burst uses it: N deploys of N new services at once, each
 * an apply of its workload, an apply of its mesh wiring and a verify, against a repository on
 * disk with H earlier commits. Prints deploys per second, git commands per deploy, and the CPU
 * this process and its git commands spent. A profiling aid for issue 12:
 *
 *   npx tsx bench/gitops.ts [deploys=100] [history=0]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGitOpsClusterTarget } from '../activities/adapters/gitops';
import type { ClusterTarget } from '../activities/ports/cluster-target';
import { applyRequest, location, manifest } from '../test/gitops/helpers';
import { treeCpuSeconds } from './lib/cpu';
import { distribution } from './lib/stats';

async function deploy(target: ClusterTarget, service: string, replicas: number): Promise<void> {
  const app = applyRequest(`${service}-app`, {
    location: location(service, 'app'),
    manifests: [manifest('Deployment', service, `spec:\n  replicas: ${replicas}\n`), manifest('Service', service)],
  });
  const mesh = applyRequest(`${service}-mesh`, {
    location: location(service, 'mesh'),
    manifests: [manifest('VirtualService', service, '', 'mesh'), manifest('DestinationRule', service, '', 'mesh')],
  });
  const deployed = await target.apply(app);
  await target.apply(mesh);
  const verified = await target.verify({ location: app.location, manifests: app.manifests, revision: deployed.revision });
  if (!verified.healthy) throw new Error(`verify of ${service}: ${verified.detail}`);
}

async function main(): Promise<void> {
  const deploys = Number(process.argv[2] ?? 100);
  const history = Number(process.argv[3] ?? 0);
  const root = mkdtempSync(join(tmpdir(), 'bench-gitops-'));
  let commands = 0;
  const target = createGitOpsClusterTarget({ repoDir: join(root, 'gitops'), onGitCommand: () => void commands++ });
  try {
    // One at a time first (each apply a group of one, as in a platform whose runs arrive spread out).
    const historyCpu = treeCpuSeconds(process.pid);
    const historyStarted = performance.now();
    for (let i = 0; i < history; i++) await deploy(target, `earlier-${i}`, 1);
    if (history > 0) {
      const cpu = (treeCpuSeconds(process.pid) ?? NaN) - (historyCpu ?? NaN);
      console.log(
        `${history} deploys one after another: ${((performance.now() - historyStarted) / history).toFixed(1)} ms each, ` +
          `${(commands / history).toFixed(1)} git commands and ${Math.round((cpu * 1000) / history)} ms CPU per deploy`,
      );
    }
    const commandsBefore = commands;
    const cpuBefore = treeCpuSeconds(process.pid);
    const each: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: deploys }, async (_, i) => {
        const s = performance.now();
        await deploy(target, `burst-${i}`, 2);
        each.push(performance.now() - s);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (treeCpuSeconds(process.pid) ?? NaN) - (cpuBefore ?? NaN);
    const d = distribution(each);
    console.log(
      `${deploys} deploys at once after ${history * 2} earlier commits: ${seconds.toFixed(2)} s, ${(deploys / seconds).toFixed(1)} deploys/s; ` +
        `each p50 ${Math.round(d?.p50 ?? NaN)} ms, p99 ${Math.round(d?.p99 ?? NaN)} ms; ` +
        `${((commands - commandsBefore) / deploys).toFixed(1)} git commands per deploy; CPU (this process and its git commands) ${Math.round((cpu * 1000) / deploys)} ms per deploy`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
