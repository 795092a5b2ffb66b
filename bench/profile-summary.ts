/**
 * Where a V8 CPU profile's time went: self time summed by function and by package, the top of
 * each printed. For the worker under a burst:
 *
 *   BENCH_CPU_PROFILE=/tmp/prof BENCH_SIZE=medium BENCH_SCENARIOS=burst npm run bench
 *   npx tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@temporalio/worker/…` → `@temporalio/worker`; project files by their top folder; `node:` internals as such. */
function packageOf(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return 'node (internals)';
  if (url === '') return '(native, GC, idle)';
  const project = url.indexOf('/work/');
  return project >= 0 ? `project: ${url.slice(project).split('/').slice(3, 4).join('/') || url}` : url;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    total += micros;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byPackage.set(packageOf(frame.url), (byPackage.get(packageOf(frame.url)) ?? 0) + micros);
  });
  const print = (title: string, entries: Map<string, number>): void => {
    console.log(`\n${title} (self time, of ${(total / 1000).toFixed(0)} ms profiled)`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(micros / 1000).toFixed(0).padStart(8)} ms ${((micros / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
    }
  };
  print('by package', byPackage);
  print('by function', byFunction);
}

main();
