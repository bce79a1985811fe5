/**
 * Chromium's processes as the bench sees them: every process below this one whose command line names
 * chromium, their summed RSS, CPU by thread, and a sampler that turns those into a run's figures:
 * - memory: the peak of the summed VmRSS of every Chromium process (browser, renderers, GPU/utility,
 *   service worker), sampled every 100 ms, minus the same sum at idle just before the run's action;
 * - first bytes: from the action to the first byte in a watched folder (the downloads, or the profile's
 *   private file system for "Save to…").
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chromiumProcesses, rssOf } from '../support/chromium-memory.ts';
import { join } from 'node:path';

const SAMPLE_MS = 100;
/** BENCH_PROFILE=1: print where Chromium spent CPU during each run (per process kind and thread). */
export const PROFILE = !!process.env.BENCH_PROFILE;

/** Sum of VmRSS over every Chromium process of this bench; `each` receives every process's own. */
export function chromiumRss(each?: Map<number, number>): number {
  let sum = 0;
  for (const pid of chromiumProcesses(process.pid)) {
    const rss = rssOf(pid);
    sum += rss;
    if (each) each.set(pid, Math.max(each.get(pid) ?? 0, rss));
  }
  return sum;
}

/** The kind of a Chromium process, from its command line (`--type=renderer`, the network service, …). */
function processKind(pid: number): string {
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

/**
 * CPU ticks of every thread of every Chromium process, keyed `pid/tid kind/thread name`. Threads that end
 * during a run (a worker terminated when its download ends) take their ticks with them, so `into` keeps
 * the last value seen: sample often.
 */
export function threadTicks(into = new Map<string, number>()): Map<string, number> {
  for (const pid of chromiumProcesses(process.pid)) {
    const kind = processKind(pid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        into.set(`${pid}/${tid} ${kind}/${comm}`, Number(fields[11]) + Number(fields[12]));
      } catch {
        // gone meanwhile
      }
    }
  }
  return into;
}

/** CPU seconds per process kind and thread name between two snapshots, biggest first. */
export function cpuProfile(before: Map<string, number>, after: Map<string, number>): string {
  const hz = 100;
  const byName = new Map<string, number>();
  for (const [key, t] of after) {
    const name = key.replace(/^\d+\/\d+ /, '');
    byName.set(name, (byName.get(name) ?? 0) + (t - (before.get(key) ?? 0)) / hz);
  }
  const rows = [...byName].filter(([, s]) => s >= 0.2).sort((a, b) => b[1] - a[1]);
  const total = [...byName.values()].reduce((s, v) => s + v, 0);
  // Workers share a thread name: list them one by one.
  const workers = [...after]
    .filter(([key]) => key.endsWith('/DedicatedWorker'))
    .map(([key, t]) => (t - (before.get(key) ?? 0)) / hz)
    .filter((s) => s >= 0.2)
    .sort((a, b) => b - a);
  return `CPU ${total.toFixed(1)} s: ${rows.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; workers ${workers.map((s) => s.toFixed(1)).join(' + ')}`;
}

/** Bytes of the regular files in `dir` and below (files renamed or removed meanwhile are skipped). */
export function bytesIn(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const stat = statSync(join(dir, name));
      total += stat.isDirectory() ? bytesIn(join(dir, name)) : stat.size;
    } catch {
      // renamed meanwhile
    }
  }
  return total;
}

/** What one run's sampling found. */
export interface Sampled {
  riseBytes: number;
  firstBytesSeconds?: number;
  idleBytes: number;
  /** BENCH_PROFILE: CPU by thread, MB on disk and RSS rise each second, peak rise by process. */
  profile?: string;
}

/**
 * Samples Chromium's RSS (and the bytes in `watch`) from `start()` to `stop()`: call start() when the page
 * is idle, right before the action being measured.
 */
export class RssSampler {
  private idle = 0;
  private peak = 0;
  private started = 0;
  private firstBytes: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly idleEach = new Map<number, number>();
  private readonly peakEach = new Map<number, number>();
  private ticksBefore: Map<string, number> | undefined;
  private ticksSeen: Map<string, number> | undefined;
  private readonly timeline: number[] = [];
  private readonly rssline: number[] = [];

  constructor(private readonly watch?: string) {}

  start(): void {
    this.idle = this.peak = chromiumRss(this.idleEach);
    if (PROFILE) {
      this.ticksBefore = threadTicks();
      this.ticksSeen = new Map(this.ticksBefore);
    }
    this.started = performance.now();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  private sample(): void {
    this.peak = Math.max(this.peak, chromiumRss(PROFILE ? this.peakEach : undefined));
    if (this.ticksSeen) threadTicks(this.ticksSeen);
    const onDisk = this.watch && (PROFILE || this.firstBytes === undefined) ? bytesIn(this.watch) : 0;
    if (PROFILE) {
      const second = Math.floor((performance.now() - this.started) / 1000);
      if (this.timeline.length <= second) {
        this.timeline.push(Math.round(onDisk / 1e6));
        this.rssline.push(Math.round((chromiumRss() - this.idle) / 2 ** 20));
      }
    }
    if (this.firstBytes === undefined && onDisk > 0) this.firstBytes = (performance.now() - this.started) / 1000;
  }

  /** Seconds since start(). */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  stop(): Sampled {
    this.sample();
    clearInterval(this.timer);
    const profile =
      this.ticksBefore && this.ticksSeen
        ? `${cpuProfile(this.ticksBefore, this.ticksSeen)}\n  MB on disk each second: ${this.timeline.join(' ')}\n  RSS rise (MiB) each second: ${this.rssline.join(' ')}\n  peak RSS rise by process: ${[...this.peakEach].map(([pid, rss]) => `${processKind(pid)} ${((rss - (this.idleEach.get(pid) ?? 0)) / 2 ** 20).toFixed(0)}`).join(', ')} MiB`
        : undefined;
    return {
      riseBytes: this.peak - this.idle,
      idleBytes: this.idle,
      ...(this.firstBytes !== undefined ? { firstBytesSeconds: this.firstBytes } : {}),
      ...(profile ? { profile } : {}),
    };
  }
}
