/**
 * Reads CPU time and memory of server processes from /proc (Linux only): the process tree that
 * `wrangler dev` starts (its `workerd` processes in particular), or a single Node process.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second for utime/stime in /proc/<pid>/stat. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    // Fields after "comm)": state(3) ppid(4) … utime(14) stime(15), here 0-based from state.
    const rest = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(rest[1]), comm, ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** `pid` and all its descendants. */
export function processTree(pid: number): Stat[] {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const root = stats.find((s) => s.pid === pid);
  if (!root) return [];
  const out: Stat[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const next = todo.pop()!;
    out.push(next);
    todo.push(...(children.get(next.pid) ?? []));
  }
  return out;
}

/**
 * The topmost process whose command line mentions `marker` (the harness passes a unique
 * `--persist-to` directory to wrangler, so that directory finds the tree it started).
 */
export function findRootByCmdline(marker: string): number | undefined {
  const matching = allStats().filter((s) => cmdline(s.pid).includes(marker));
  const pids = new Set(matching.map((s) => s.pid));
  return matching.find((s) => !pids.has(s.ppid))?.pid;
}

/** Busy clock ticks of the whole machine (all CPUs) from /proc/stat. */
function machineBusyTicks(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  } catch {
    return Number.NaN;
  }
}

/** VmRSS and VmHWM (peak) in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0, own or root's processes); false if refused. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface ProcessGroup {
  /** A label for the report, e.g. "workerd" or "tus". */
  name: string;
  /** The processes to count, looked up at each start() (wrangler may restart workerd). */
  pids: () => number[];
}

export interface GroupUsage {
  name: string;
  pids: number[];
  cpuSeconds: number;
  /** CPU seconds up to the last mark() (e.g. the last part's answer); equals cpuSeconds without marks. */
  markedCpuSeconds: number;
  /** RSS before the measured work, bytes (sum over the group). */
  baselineRss: number;
  /** Peak RSS during the work, bytes: the larger of the summed VmHWM (reset at start) and sampled VmRSS. */
  peakRss: number;
  /** Peak RSS up to the last mark() (ours: the transfer); equals peakRss without marks. */
  markedPeakRss: number;
  /** Whether VmHWM could be reset at start (otherwise the peak comes from sampling only). */
  exactPeak: boolean;
}

/**
 * Measures CPU seconds and peak RSS of process groups between start() and stop(). Peak memory
 * comes from VmHWM, reset through clear_refs at start, backed by VmRSS samples every 100 ms.
 */
export class ProcessMeter {
  private readonly pidsOf = new Map<string, number[]>();
  private readonly startTicks = new Map<string, Map<number, number>>();
  private readonly baseline = new Map<string, number>();
  private readonly sampledPeak = new Map<string, number>();
  private readonly exact = new Map<string, boolean>();
  private readonly markTicks = new Map<string, number>();
  private readonly markPeak = new Map<string, number>();
  private markedClientCpu: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private clientCpu: NodeJS.CpuUsage | undefined;
  private machineAtStart = 0;
  private startedAt = 0;

  private ticksSinceStart(name: string): number {
    const before = this.startTicks.get(name)!;
    return (this.pidsOf.get(name) ?? []).reduce((sum, pid) => sum + Math.max(0, (readStat(pid)?.ticks ?? 0) - (before.get(pid) ?? 0)), 0);
  }

  /** Remembers the CPU used so far (cheap: one /proc read per process); the last mark wins. */
  mark(): void {
    for (const group of this.groups) {
      this.markTicks.set(group.name, this.ticksSinceStart(group.name));
      const pids = this.pidsOf.get(group.name) ?? [];
      const hwm = this.exact.get(group.name) ? pids.reduce((sum, pid) => sum + memory(pid).hwm, 0) : 0;
      this.markPeak.set(group.name, Math.max(hwm, this.sampledPeak.get(group.name) ?? 0));
    }
    const client = process.cpuUsage(this.clientCpu);
    this.markedClientCpu = (client.user + client.system) / 1e6;
  }

  constructor(private readonly groups: ProcessGroup[]) {}

  start(): void {
    for (const group of this.groups) {
      const pids = group.pids();
      this.pidsOf.set(group.name, pids);
      this.startTicks.set(group.name, new Map(pids.map((pid) => [pid, readStat(pid)?.ticks ?? 0])));
      this.exact.set(group.name, pids.length > 0 && pids.every(resetPeak));
      const rss = pids.reduce((sum, pid) => sum + memory(pid).rss, 0);
      this.baseline.set(group.name, rss);
      this.sampledPeak.set(group.name, rss);
    }
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
    this.clientCpu = process.cpuUsage();
    this.machineAtStart = machineBusyTicks();
    this.startedAt = performance.now();
  }

  private sample(): void {
    for (const group of this.groups) {
      const rss = (this.pidsOf.get(group.name) ?? []).reduce((sum, pid) => sum + memory(pid).rss, 0);
      if (rss > (this.sampledPeak.get(group.name) ?? 0)) this.sampledPeak.set(group.name, rss);
    }
  }

  /** True when a measured process went away or a new one appeared (e.g. wrangler reloaded the Worker). */
  changed(): boolean {
    return this.groups.some((group) => {
      const before = this.pidsOf.get(group.name) ?? [];
      const now = group.pids();
      return now.length !== before.length || now.some((pid) => !before.includes(pid));
    });
  }

  stop(): { groups: GroupUsage[]; clientCpuSeconds: number; markedClientCpuSeconds: number; backgroundCores: number; restarted: boolean } {
    clearInterval(this.timer);
    const restarted = this.changed();
    this.sample();
    const client = process.cpuUsage(this.clientCpu);
    const machine = machineBusyTicks() - this.machineAtStart;
    const wall = (performance.now() - this.startedAt) / 1000;
    // Everything else on the machine: busy ticks minus the measured processes (each pid once) and us.
    const seen = new Set<number>();
    let ours = 0;
    for (const group of this.groups) {
      const before = this.startTicks.get(group.name)!;
      for (const pid of this.pidsOf.get(group.name) ?? []) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        ours += Math.max(0, (readStat(pid)?.ticks ?? 0) - (before.get(pid) ?? 0));
      }
    }
    ours += ((client.user + client.system) / 1e6) * CLK_TCK;
    const backgroundCores = Math.max(0, (machine - ours) / CLK_TCK / wall);
    const groups = this.groups.map((group): GroupUsage => {
      const pids = this.pidsOf.get(group.name) ?? [];
      const ticks = this.ticksSinceStart(group.name);
      const hwm = pids.reduce((sum, pid) => sum + memory(pid).hwm, 0);
      const exactPeak = this.exact.get(group.name) ?? false;
      return {
        name: group.name,
        pids,
        cpuSeconds: ticks / CLK_TCK,
        markedCpuSeconds: (this.markTicks.get(group.name) ?? ticks) / CLK_TCK,
        baselineRss: this.baseline.get(group.name) ?? 0,
        peakRss: Math.max(this.sampledPeak.get(group.name) ?? 0, exactPeak ? hwm : 0),
        markedPeakRss: this.markPeak.get(group.name) ?? Math.max(this.sampledPeak.get(group.name) ?? 0, exactPeak ? hwm : 0),
        exactPeak,
      };
    });
    const clientCpuSeconds = (client.user + client.system) / 1e6;
    return { groups, clientCpuSeconds, markedClientCpuSeconds: this.markedClientCpu ?? clientCpuSeconds, backgroundCores, restarted };
  }
}

/** The workerd processes under a `wrangler dev` tree, split into wrangler's proxy and the Worker's runtime. */
export function workerdGroups(rootPid: () => number | undefined, port: number): ProcessGroup[] {
  const workerd = () => {
    const root = rootPid();
    return root === undefined ? [] : processTree(root).filter((s) => s.comm === 'workerd').map((s) => s.pid);
  };
  // wrangler's proxy workerd listens on the public port (`--socket-addr=entry=127.0.0.1:<port>`);
  // the Worker itself runs in the other one, which the proxy forwards to.
  const isProxy = (pid: number) => cmdline(pid).includes(`entry=127.0.0.1:${port} `);
  return [
    { name: 'workerd', pids: workerd },
    { name: 'workerd:runtime', pids: () => workerd().filter((pid) => !isProxy(pid)) },
    { name: 'workerd:proxy', pids: () => workerd().filter(isProxy) },
    {
      name: 'wrangler:node',
      pids: () => {
        const root = rootPid();
        return root === undefined ? [] : processTree(root).filter((s) => s.comm !== 'workerd').map((s) => s.pid);
      },
    },
  ];
}
