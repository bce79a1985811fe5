/**
 * How the bench measures: contenders run in rotating order, each under watch for other work on the machine
 * (a disturbed run is run again), same-identity outputs compared byte for byte, medians reported.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PushedImage } from '../support/images.ts';
import { BUSY_SHARE, cliHasParallel, MB, ONLY, PARALLEL, RETRIES, ROOT, RUNS } from './settings.ts';

export interface Measurement {
  seconds: number;
  peakRssBytes: number;
  /** From the start to the first byte of the output on disk, where the contender can tell. */
  firstBytesSeconds?: number;
  /** Where the wall time also covers entering the images (the page's list): from Download to the complete file. */
  afterDownloadSeconds?: number;
  /** Anything else worth printing in the per-round log. */
  extra?: string;
}

export interface Contender {
  name: string;
  /** What the peak memory figure means for this contender. */
  memory: string;
  /** Contenders with the same identity must write byte-identical files (Skiff's output is deterministic). */
  identity?: string;
  /** Writes to `out` (a file, or a directory for tools that write one). */
  run(out: string): Promise<Measurement>;
}

/**
 * Runs a command under GNU time for wall time and peak RSS. Asynchronous: the far profile's proxy runs in
 * this process and must keep serving meanwhile.
 */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@%e %M', command, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-1 << 16)));
    child.on('error', reject);
    child.on('close', (status) => {
      const match = /@@([\d.]+) (\d+)/.exec(stderr);
      if (status !== 0 || !match) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.slice(-2000)}`));
      else resolve({ seconds: Number(match[1]), peakRssBytes: Number(match[2]) * 1024 });
    });
  });
}

/** `npm run pull` as a contender: `refs` into one archive (`-f LIST` when there are several). */
export function cliPull(refs: string[], mode: string, label: string, ...extra: string[]): Contender {
  return {
    name: `Skiff in Node, ${mode}${extra.includes('--skip-diff-ids') ? ', diff_ids unchecked' : ''}${label}`,
    memory: 'process RSS',
    identity: `${mode}${label}`,
    run: async (out) => {
      const list = `${out}.list`;
      if (refs.length > 1) writeFileSync(list, refs.join('\n') + '\n');
      try {
        return await timed(process.execPath, [
          '--import',
          'tsx',
          'src/cli/pull.ts',
          ...(refs.length > 1 ? ['-f', list] : refs),
          '-o',
          out,
          '--layers',
          mode,
          '--quiet',
          ...(cliHasParallel && PARALLEL ? ['--parallel', PARALLEL] : []),
          ...extra,
        ]);
      } finally {
        rmSync(list, { force: true });
      }
    },
  };
}

export function skopeoToArchive(ref: string, label = ''): Contender {
  return {
    name: `skopeo copy → docker-archive${label}`,
    memory: 'process RSS',
    run: async (out: string) =>
      timed('skopeo', [
        'copy',
        '--insecure-policy',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `docker-archive:${out}:bench/app:v1`,
      ]),
  };
}

/**
 * CPU ticks of every process outside this bench's process tree: other work on the machine during a run
 * shows as noise in its timing, so each round's log says how much there was. Reaped children's ticks are
 * left out, and Chromium's processes count as ours: its zygote's children are reparented to init, whose
 * reaped-children ticks would otherwise count the bench's own browser as foreign work.
 */
function foreignTicks(): Map<number, number> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // An exiting process has an empty command line but keeps its name.
      if (
        stat.includes('(chromium)') ||
        stat.includes('(chrome_crashpad)') ||
        readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('chromium')
      )
        continue;
      stats.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = pid; p > 1; p = stats.get(p)?.ppid ?? 0) if (p === process.pid) return true;
    return false;
  };
  const out = new Map<number, number>();
  for (const [pid, { ticks }] of stats) if (!ours(pid)) out.set(pid, ticks);
  return out;
}

function foreignCpuSeconds(before: Map<number, number>): number {
  let ticks = 0;
  const top: [number, number][] = [];
  for (const [pid, t] of foreignTicks()) {
    ticks += t - (before.get(pid) ?? 0);
    top.push([pid, t - (before.get(pid) ?? 0)]);
  }
  if (process.env.BENCH_DEBUG) {
    for (const [pid, t] of top.sort((a, b) => b[1] - a[1]).slice(0, 5)) {
      let cmd = '?';
      try {
        cmd =
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 100) ||
          readFileSync(`/proc/${pid}/comm`, 'utf8');
      } catch {
        // gone meanwhile
      }
      console.error(`  other process ${pid}: ${t / 100} CPU-s, ${cmd}`);
    }
  }
  return ticks / 100;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const fmtMB = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const cpuName = () => readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export type Results = Map<string, Measurement[]>;

/** Runs every contender RUNS times in rotating order; checks that same-identity contenders wrote the same file. */
export async function measure(
  contenders: Contender[],
  scratch: string,
  before?: (c: Contender) => Promise<void>,
): Promise<Results> {
  const results: Results = new Map(contenders.map((c) => [c.name, []]));
  /** sha256 of the first file each identity wrote, and who wrote it. */
  const outputs = new Map<string, { sha256: string; by: string }>();
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + round) % contenders.length]!;
      const out: string = join(scratch, 'out.tar');
      let m: Measurement;
      let elsewhere: number;
      for (let attempt = 0; ; attempt++) {
        rmSync(out, { force: true, recursive: true });
        await before?.(contender);
        const foreign = foreignTicks();
        m = await contender.run(out);
        elsewhere = foreignCpuSeconds(foreign);
        if (elsewhere <= BUSY_SHARE * m.seconds || attempt >= RETRIES) break;
        console.error(
          `round ${round + 1}: ${contender.name}: ${m.seconds.toFixed(2)} s while other processes used ${elsewhere.toFixed(1)} CPU-s: again`,
        );
      }
      if (contender.identity) {
        if (!existsSync(out)) throw new Error(`${contender.name} wrote no file`);
        const sha256 = await sha256File(out);
        const first = outputs.get(contender.identity);
        if (!first) outputs.set(contender.identity, { sha256, by: contender.name });
        else if (first.sha256 !== sha256)
          throw new Error(
            `${contender.name} wrote sha256 ${sha256}, but ${first.by} wrote ${first.sha256} in the same mode`,
          );
      }
      rmSync(out, { force: true, recursive: true });
      const first = m.firstBytesSeconds === undefined ? '' : `, first bytes ${m.firstBytesSeconds.toFixed(2)} s`;
      console.error(
        `round ${round + 1}: ${contender.name}: ${m.seconds.toFixed(2)} s, ${(m.peakRssBytes / 1e6).toFixed(0)} MB${first}${m.extra ? `, ${m.extra}` : ''}; other processes used ${elsewhere.toFixed(1)} CPU-s meanwhile`,
      );
      results.get(contender.name)!.push(m);
    }
  }
  for (const [identity, { sha256 }] of outputs)
    console.error(`${identity}: every run wrote the same file, sha256 ${sha256}`);
  return results;
}

export const selected = (contenders: Contender[]) =>
  contenders.filter((c) => !ONLY || ONLY.split(',').some((w) => c.name.toLowerCase().includes(w.toLowerCase())));

/** Medians of one profile's results, and the goal lines checked against them. */
export function summary(results: Results) {
  const has = (name: string) => (results.get(name)?.length ?? 0) > 0;
  const seconds = (name: string) => (has(name) ? median(results.get(name)!.map((m) => m.seconds)) : NaN);
  const rss = (name: string) => (has(name) ? median(results.get(name)!.map((m) => m.peakRssBytes)) : NaN);
  const first = (name: string) => {
    const firsts = (results.get(name) ?? []).flatMap((m) =>
      m.firstBytesSeconds === undefined ? [] : [m.firstBytesSeconds],
    );
    return firsts.length ? median(firsts) : undefined;
  };
  const afterDownload = (name: string) => {
    const values = (results.get(name) ?? []).flatMap((m) =>
      m.afterDownloadSeconds === undefined ? [] : [m.afterDownloadSeconds],
    );
    return values.length ? median(values) : undefined;
  };
  const goals: string[] = [];
  const check = (ok: boolean, text: string) => goals.push(`- ${ok ? 'met' : 'MISSED'}: ${text}`);
  return { has, seconds, rss, first, afterDownload, goals, check };
}

export const bytesOf = (image: PushedImage) => ({
  compressed: image.layers.reduce((s, l) => s + l.size, 0),
  uncompressed: image.layers.reduce((s, l) => s + l.uncompressedSize, 0),
});

/** The end of every table's heading: rounds, the machine, its load, the engine's parallel setting. */
export function context(): string {
  return `median of ${RUNS} round${RUNS === 1 ? '' : 's'}; ${cpuName()}, 2 cores; load average ${load()} at the end${cliHasParallel ? `; Skiff CLI --parallel ${PARALLEL ?? 'default'}` : '; Skiff one layer at a time'}`;
}

export function header(image: PushedImage, what: string) {
  const { compressed, uncompressed } = bytesOf(image);
  const largest = Math.max(...image.layers.map((l) => l.size));
  return `${new Date().toISOString().slice(0, 10)}, ${what}: ${image.layers.length} layers, ${fmtMB(compressed)} gzip (largest ${fmtMB(largest)}) / ${fmtMB(uncompressed)} tar; ${context()}`;
}

/** A markdown table row; `|` in a name is escaped. */
export const row = (cells: (string | number)[]) =>
  `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
