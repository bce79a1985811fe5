/**
 * Chromium end-to-end contenders for the bench: the built web app in Debian's headless Chromium, as a
 * person uses it. Each run starts a fresh browser (a first-time visitor: StreamSaver's service worker is
 * registered during the run), opens the deep link `?image=REF` with the layer mode set by config.json,
 * waits until the image is resolved, clicks Download and waits for the browser's download to complete.
 *
 * Measured per run:
 * - wall time: click → the download is complete on disk (Playwright's `download.path()` settles);
 * - first bytes: click → the first byte of the download is on disk (the downloads folder, polled);
 * - memory: the peak of the summed VmRSS of every Chromium process (browser, renderers, GPU/utility,
 *   service worker), sampled every 100 ms, minus the same sum at idle just before the click.
 * The file is moved to `out`, so the bench can check that it is byte-identical to the CLI's.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildApp, chromiumPath, serveStatic } from '../e2e/harness.ts';
import { scratchDir } from '../support/process.ts';
import type { Contender, Measurement } from './bench.ts';

const SAMPLE_MS = 100;
/** BENCH_PROFILE=1: print where Chromium spent CPU during each run (per process kind and thread). */
const PROFILE = !!process.env.BENCH_PROFILE;

/** Pids of every process below `root` whose command line names chromium. */
function chromiumProcesses(root: number): number[] {
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

function rssOf(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

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

function bytesIn(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    try {
      total += statSync(join(dir, name)).size;
    } catch {
      // renamed meanwhile
    }
  }
  return total;
}

export interface ChromiumBench {
  /**
   * A contender that pulls `ref` in `mode`; `label` tells contenders of different profiles apart, `extra`
   * settings go into config.json.
   */
  contender(
    ref: string,
    mode: 'uncompressed' | 'as-pulled',
    label?: string,
    extra?: Record<string, unknown>,
  ): Contender;
  close(): Promise<void>;
}

/** Builds the app once and serves it; every contender run starts its own browser. */
export async function startChromiumBench(settings: Record<string, unknown> = {}): Promise<ChromiumBench> {
  const build = await buildApp();
  const server = await serveStatic(build.dir);
  const scratch = scratchDir('bench-chromium');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.stop();
    build.remove();
    scratch.remove();
  };

  const contender = (
    ref: string,
    mode: 'uncompressed' | 'as-pulled',
    label = '',
    extra: Record<string, unknown> = {},
  ): Contender => ({
    name: `Skiff in Chromium, ${mode}${label}`,
    memory: 'Chromium RSS rise',
    // The page's settings do not change the file: same identity as the plain run.
    identity: `${mode}${label.replace(/, .*/, '')}`,
    async run(out: string): Promise<Measurement> {
      const downloads = join(scratch.path, `downloads-${Date.now()}`);
      mkdirSync(downloads);
      server.config = { ...settings, ...extra, layers: mode };
      const browser = await chromium.launch({
        executablePath: chromiumPath(),
        headless: true,
        downloadsPath: downloads,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const context = await browser.newContext({
          acceptDownloads: true,
          locale: 'en-US',
          viewport: { width: 1280, height: 900 },
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(String(error)));
        // The deep link a colleague would send; the page resolves it by itself.
        await page.goto(`${server.url}?image=${encodeURIComponent(ref)}`);
        await page.locator('section.details[aria-busy="false"]').waitFor({ timeout: 60_000 });
        const button = page.getByRole('button', { name: 'Download', exact: true });
        await button.waitFor();
        // Idle: the page is loaded and the image resolved; let the browser settle before taking the baseline.
        await page.waitForTimeout(1000);
        const idleEach = new Map<number, number>();
        const idle = chromiumRss(idleEach);
        const peakEach = new Map<number, number>();
        const ticksBefore = PROFILE ? threadTicks() : undefined;

        let peak = idle;
        let firstBytes: number | undefined;
        let started = 0;
        const ticksSeen = ticksBefore ? new Map(ticksBefore) : undefined;
        /** MB on disk at each second after the click (BENCH_PROFILE). */
        const timeline: number[] = [];
        const rssline: number[] = [];
        const sample = () => {
          peak = Math.max(peak, chromiumRss(PROFILE ? peakEach : undefined));
          if (ticksSeen) threadTicks(ticksSeen);
          if (PROFILE && started) {
            const second = Math.floor((performance.now() - started) / 1000);
            if (timeline.length <= second) {
              timeline.push(Math.round(bytesIn(downloads) / 1e6));
              rssline.push(Math.round((chromiumRss() - idle) / 2 ** 20));
            }
          }
          if (firstBytes === undefined && started && bytesIn(downloads) > 0)
            firstBytes = (performance.now() - started) / 1000;
        };
        const sampler = setInterval(sample, SAMPLE_MS);
        try {
          const downloading = page.waitForEvent('download', { timeout: 120_000 });
          started = performance.now();
          await button.click();
          const download = await downloading;
          const downloadEvent = (performance.now() - started) / 1000;
          const path = await download.path();
          const seconds = (performance.now() - started) / 1000;
          sample();
          if (ticksBefore && ticksSeen)
            console.error(
              `  ${mode}: ${cpuProfile(ticksBefore, ticksSeen)}\n  MB on disk each second: ${timeline.join(' ')}\n  RSS rise (MiB) each second: ${rssline.join(' ')}\n  peak RSS rise by process: ${[...peakEach].map(([pid, rss]) => `${processKind(pid)} ${((rss - (idleEach.get(pid) ?? 0)) / 2 ** 20).toFixed(0)}`).join(', ')} MiB`,
            );
          const failure = await download.failure();
          if (failure) throw new Error(`the download failed: ${failure}; page errors: ${errors.join('; ')}`);
          await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 30_000 });
          const sizeShown = (await page.getByTestId('result-size').textContent()) ?? '';
          const size = statSync(path).size;
          if (!sizeShown.replace(/[\s,]/g, '').includes(`(${size}B)`))
            throw new Error(`the page says ${sizeShown}, the file has ${size} bytes`);
          renameSync(path, out);
          return {
            seconds,
            peakRssBytes: peak - idle,
            firstBytesSeconds: firstBytes ?? seconds,
            extra: `download event ${downloadEvent.toFixed(2)} s, idle ${(idle / 2 ** 20).toFixed(0)} MiB`,
          };
        } finally {
          clearInterval(sampler);
        }
      } finally {
        await browser.close();
        rmSync(downloads, { recursive: true, force: true });
      }
    },
  });
  return { contender, close };
}
