/**
 * Chromium's memory as the system sees it: the VmRSS of every Chromium process started by this Node process
 * (the browser, renderers, GPU and utility processes), each classified by its `--type=` argument, sampled
 * on a timer. A rise is measured against a baseline taken per process at idle; a process that starts after
 * the baseline (a service worker's renderer, a utility) counts whole.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Pids of every process below `root` whose command line names chromium. */
export function chromiumProcesses(root = process.pid): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      try {
        if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('chromium')) found.push(child);
      } catch {
        // gone meanwhile
      }
      walk(child);
    }
  };
  walk(root);
  return found;
}

export function rssOf(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The kind of a Chromium process, from its command line: `browser`, `renderer`, `gpu-process`, `utility:network`… */
export function processKind(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const type = args.find((a) => a.startsWith('--type='))?.slice(7);
    const sub = args.find((a) => a.startsWith('--utility-sub-type='))?.slice(19);
    if (!type) return 'browser';
    return sub ? `${type}:${sub.replace(/^.*\./, '')}` : type;
  } catch {
    return '?';
  }
}

const MiB = 2 ** 20;

/** One process's rise at its peak, in bytes. */
export interface ProcessRise {
  pid: number;
  kind: string;
  idle: number;
  peak: number;
}

export interface MemoryReport {
  /** The highest summed rise over all processes at one sample, in bytes. */
  peakRise: number;
  /** Each process's own highest rise (not at the same instant). */
  processes: ProcessRise[];
  /** The summed rise at each sample, in MiB. */
  timeline: number[];
  samples: number;
}

/**
 * Samples every `intervalMs` from `start()` until `stop()`. `pids` lists the processes to follow (Chromium's
 * under this Node process by default; a Firefox's, say, for another browser).
 */
export class RssSampler {
  private readonly idle = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  private readonly kinds = new Map<number, string>();
  private readonly timeline: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private peakRise = 0;

  constructor(
    private readonly intervalMs = 500,
    private readonly pids: () => number[] = () => chromiumProcesses(),
  ) {}

  /** Takes the baseline of every process now, then samples on the timer. */
  start(): void {
    for (const pid of this.pids()) {
      this.idle.set(pid, rssOf(pid));
      this.kinds.set(pid, processKind(pid));
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  sample(): void {
    let rise = 0;
    for (const pid of this.pids()) {
      if (!this.kinds.has(pid)) this.kinds.set(pid, processKind(pid));
      const rss = rssOf(pid);
      if (rss === 0) continue;
      this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, rss));
      rise += rss - (this.idle.get(pid) ?? 0);
    }
    this.peakRise = Math.max(this.peakRise, rise);
    this.timeline.push(Math.round(rise / MiB));
  }

  stop(): MemoryReport {
    clearInterval(this.timer);
    this.sample();
    const processes = [...this.peaks].map(([pid, peak]) => ({
      pid,
      kind: this.kinds.get(pid) ?? '?',
      idle: this.idle.get(pid) ?? 0,
      peak,
    }));
    return { peakRise: this.peakRise, processes, timeline: [...this.timeline], samples: this.timeline.length };
  }
}

/** `renderer 210 MiB (idle 80), browser 40 MiB (idle 120), …` — the biggest rises first. */
export function describeRises(report: MemoryReport): string {
  return report.processes
    .map((p) => ({ ...p, rise: p.peak - p.idle }))
    .sort((a, b) => b.rise - a.rise)
    .map((p) => `${p.kind} ${(p.rise / MiB).toFixed(0)} MiB (idle ${(p.idle / MiB).toFixed(0)})`)
    .join(', ');
}
