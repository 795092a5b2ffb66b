/**
 * CPU time by process, read from /proc: which process a scenario's work costs, in CPU seconds,
 * and how busy the whole machine was meanwhile. Linux only; elsewhere every reading is undefined
 * and the scenario reports no CPU.
 *
 * A process's CPU here is its own user + system time plus that of its children it has reaped
 * (cutime, cstime), summed over it and its live descendants: git commands the worker's helper ran
 * and waited for count towards the worker, however short they lived.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5).
  const field = (n: number): number => Number(fields[n - 3] ?? NaN);
  return { ppid: field(4), ticks: field(14) + field(15) + field(16) + field(17) };
}

/** Every process id in /proc, or undefined where there is no /proc. */
function livePids(): number[] | undefined {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return undefined;
  }
}

/** CPU seconds of `pid` and every live descendant (see the module comment); undefined when unreadable. */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const root = procStat(pid);
  if (!root) return undefined;
  const pids = livePids();
  if (!pids) return undefined;
  const stats = new Map<number, ProcStat>([[pid, root]]);
  const children = new Map<number, number[]>();
  for (const p of pids) {
    const stat = p === pid ? root : procStat(p);
    if (!stat) continue;
    stats.set(p, stat);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), p]);
  }
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop() as number;
    ticks += stats.get(current)?.ticks ?? 0;
    pending.push(...(children.get(current) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** The first child of `parent` whose command line matches `pattern` (e.g. a helper process). */
export function childMatching(parent: number | undefined, pattern: RegExp): number | undefined {
  if (parent === undefined) return undefined;
  return livePids()?.find((pid) => {
    if (procStat(pid)?.ppid !== parent) return false;
    try {
      return pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      return false;
    }
  });
}

/** Busy and total CPU seconds of the whole machine since boot (all cores), from /proc/stat. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are the idle ones.
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export interface CpuReading {
  /** CPU seconds by role at the reading. */
  byRole: Record<string, number | undefined>;
  machine: { busy: number; total: number } | undefined;
}

/** One reading of each role's process tree (this process: `process.cpuUsage()`, children excluded). */
export function readCpu(roles: Record<string, number | 'self' | undefined>): CpuReading {
  const byRole: Record<string, number | undefined> = {};
  for (const [role, pid] of Object.entries(roles)) {
    if (pid === 'self') {
      const usage = process.cpuUsage();
      byRole[role] = (usage.user + usage.system) / 1e6;
    } else {
      byRole[role] = treeCpuSeconds(pid);
    }
  }
  return { byRole, machine: machineCpu() };
}

export interface CpuSpent {
  /** CPU seconds each role spent between the readings. */
  seconds: Record<string, number>;
  /** How busy the whole machine was between them: 1 = every core busy all the time. */
  machineBusy: number | undefined;
}

export function cpuBetween(before: CpuReading, after: CpuReading): CpuSpent {
  const seconds: Record<string, number> = {};
  for (const [role, end] of Object.entries(after.byRole)) {
    const start = before.byRole[role];
    if (end !== undefined && start !== undefined) seconds[role] = Math.round((end - start) * 100) / 100;
  }
  const machineBusy =
    before.machine && after.machine && after.machine.total > before.machine.total
      ? Math.round(((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 100) / 100
      : undefined;
  return { seconds, machineBusy };
}

/** "server 41.2 s, worker 30.1 s, … (machine 97 % busy)", per run when `runs` is given. */
export function describeCpu(spent: CpuSpent, runs?: number): string {
  // A role that did next to nothing (the other side's idle worker) is left out.
  const parts = Object.entries(spent.seconds).filter(([, s]) => s >= 0.05).map(([role, s]) => (runs ? `${role} ${Math.round((s * 1000) / runs)} ms` : `${role} ${s.toFixed(1)} s`));
  const busy = spent.machineBusy === undefined ? '' : ` (machine ${Math.round(spent.machineBusy * 100)} % busy)`;
  return `${parts.join(', ')}${runs ? ' per run' : ''}${busy}`;
}
