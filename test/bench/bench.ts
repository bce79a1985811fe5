/**
 * `npm run bench [-- loopback|far] [quick] [flags]`: speed and memory of a pull, measured against other
 * tools in the same run. Contenders run in rotating order to cancel drift; the tables report medians.
 *
 * - loopback: the registry on 127.0.0.1, so the CPU is the limit. The image is built here: real files from
 *   this machine's /usr (~250 MB of tar in four layers) plus one ~1 GiB layer that compresses well; against
 *   skopeo and the `gzip -dc | sha256sum` floor.
 * - far: the same registry behind a throttling proxy (test/bench/throttle-proxy.ts: round-trip latency, a
 *   per-connection and a total rate), pulling the image's four real layers; against skopeo, `docker pull`
 *   into a dockerd started here, and the link's floor (bytes / total rate).
 * Default: both. `quick`: a smaller image and one round, for smoke runs.
 *
 * Flags (or env): --runs N (BENCH_RUNS, default 3; quick 1), --only a,b (BENCH_ONLY: contenders whose name
 * holds a word), --latency MS (BENCH_LATENCY_MS, 150), --connection-rate MB/s (BENCH_CONNECTION_MBPS, 4),
 * --total-rate MB/s (BENCH_TOTAL_MBPS, 16), --parallel N (BENCH_PARALLEL: passed to Skiff when its engine
 * has the option). BENCH_PROFILE=1 prints Chromium's CPU by thread; BENCH_DEBUG=1 names the other
 * processes that used CPU; BENCH_RETRIES (default 2; quick 0) reruns a run disturbed by other processes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DOCKER_CLI, startDockerd, type Dockerd } from '../support/dockerd.ts';
import type { PushedImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry } from '../support/registry.ts';
import { startChromiumBench, type ChromiumBench } from './chromium.ts';
import { FULL_IMAGE, pushBenchImage, pushFarImage, QUICK_IMAGE } from './image.ts';
import { startThrottleProxy } from './throttle-proxy.ts';

const root = join(import.meta.dirname, '..', '..');
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    latency: { type: 'string' },
    'connection-rate': { type: 'string' },
    'total-rate': { type: 'string' },
    parallel: { type: 'string' },
  },
});
for (const word of positionals)
  if (!['far', 'loopback', 'quick'].includes(word)) throw new Error(`unknown word "${word}": far, loopback or quick`);
const QUICK = positionals.includes('quick') || !!process.env.BENCH_QUICK;
const PROFILES = positionals.filter((p) => p !== 'quick').length
  ? positionals.filter((p) => p !== 'quick')
  : ['loopback', 'far'];
const RUNS = Number(flags.runs ?? process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const ONLY = flags.only ?? process.env.BENCH_ONLY;
const MB = 1e6;
const LINK = {
  latencyMs: Number(flags.latency ?? process.env.BENCH_LATENCY_MS ?? 150),
  connectionRate: Number(flags['connection-rate'] ?? process.env.BENCH_CONNECTION_MBPS ?? 4) * MB,
  totalRate: Number(flags['total-rate'] ?? process.env.BENCH_TOTAL_MBPS ?? 16) * MB,
};
const PARALLEL = flags.parallel ?? process.env.BENCH_PARALLEL;
/** A run during which other processes used more than this share of one core is run again (up to BENCH_RETRIES times). */
const BUSY_SHARE = 0.25;
const RETRIES = Number(process.env.BENCH_RETRIES ?? (QUICK ? 0 : 2));

/** Whether the engine takes a `parallel` setting yet: the CLI's usage names `--parallel`, the page's config reads it. */
const cliHasParallel = readFileSync(join(root, 'src/cli/pull.ts'), 'utf8').includes('--parallel');
const pageHasParallel = ['src/app/lib/config.ts', 'src/app/engine/config.ts'].some(
  (f) => existsSync(join(root, f)) && readFileSync(join(root, f), 'utf8').includes('value.parallel'),
);

export interface Measurement {
  seconds: number;
  peakRssBytes: number;
  /** From the start to the first byte of the output on disk, where the contender can tell. */
  firstBytesSeconds?: number;
  /** Anything else worth printing in the per-round log. */
  extra?: string;
}

export interface Contender {
  name: string;
  /** What the peak memory figure means for this contender. */
  memory: string;
  /** Contenders with the same identity must write byte-identical files (Skiff's output is deterministic). */
  identity?: string;
  run(out: string): Promise<Measurement>;
  /** Releases what the contender set up (servers, builds); may be shared and called more than once. */
  close?(): Promise<void>;
}

/**
 * Runs a command under GNU time for wall time and peak RSS. Asynchronous: the far profile's proxy runs in
 * this process and must keep serving meanwhile.
 */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@%e %M', command, ...args], {
      cwd: root,
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

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const fmtMB = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const cpuName = () => readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

type Results = Map<string, Measurement[]>;

/** Runs every contender RUNS times in rotating order; checks that same-identity contenders wrote the same file. */
async function measure(
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
        rmSync(out, { force: true });
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
      rmSync(out, { force: true });
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

const selected = (contenders: Contender[]) =>
  contenders.filter((c) => !ONLY || ONLY.split(',').some((w) => c.name.toLowerCase().includes(w.toLowerCase())));

/** Medians of one profile's results, and the goal lines checked against them. */
function summary(results: Results) {
  const has = (name: string) => (results.get(name)?.length ?? 0) > 0;
  const seconds = (name: string) => (has(name) ? median(results.get(name)!.map((m) => m.seconds)) : NaN);
  const rss = (name: string) => median(results.get(name)!.map((m) => m.peakRssBytes));
  const first = (name: string) => {
    const firsts = results.get(name)!.flatMap((m) => (m.firstBytesSeconds === undefined ? [] : [m.firstBytesSeconds]));
    return firsts.length ? median(firsts) : undefined;
  };
  const goals: string[] = [];
  const check = (ok: boolean, text: string) => goals.push(`- ${ok ? 'met' : 'MISSED'}: ${text}`);
  return { has, seconds, rss, first, goals, check };
}

function header(image: PushedImage, what: string) {
  const compressed = image.layers.reduce((s, l) => s + l.size, 0);
  const uncompressed = image.layers.reduce((s, l) => s + l.uncompressedSize, 0);
  const largest = Math.max(...image.layers.map((l) => l.size));
  return `${new Date().toISOString().slice(0, 10)}, ${what}: ${image.layers.length} layers, ${fmtMB(compressed)} gzip (largest ${fmtMB(largest)}) / ${fmtMB(uncompressed)} tar; median of ${RUNS} round${RUNS === 1 ? '' : 's'}; ${cpuName()}, 2 cores; load average ${load()} at the end${cliHasParallel ? `; Skiff CLI --parallel ${PARALLEL ?? 'default'}` : '; Skiff one layer at a time'}`;
}

/** `npm run pull` as a contender. */
function cliContender(ref: string, mode: string, label: string, ...extra: string[]): Contender {
  return {
    name: `Skiff in Node, ${mode}${extra.includes('--skip-diff-ids') ? ', diff_ids unchecked' : ''}${label}`,
    memory: 'process RSS',
    identity: `${mode}${label}`,
    run: async (out) =>
      timed(process.execPath, [
        '--import',
        'tsx',
        'src/cli/pull.ts',
        ref,
        '-o',
        out,
        '--layers',
        mode,
        '--quiet',
        ...(cliHasParallel && PARALLEL ? ['--parallel', PARALLEL] : []),
        ...extra,
      ]),
  };
}

function skopeoContender(ref: string, label = ''): Contender {
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

async function loopbackProfile(image: PushedImage, registryUrl: string, chromium: ChromiumBench, scratch: string) {
  // The floor reads the same blobs from disk.
  const blobs = join(scratch, 'blobs');
  mkdirSync(blobs);
  for (const layer of image.layers) {
    const response = await fetch(`${registryUrl}/v2/bench/app/blobs/${layer.digest}`);
    writeFileSync(join(blobs, layer.digest.slice(7)), Buffer.from(await response.arrayBuffer()));
  }
  const ref = image.reference;
  const uncompressed = image.layers.reduce((s, l) => s + l.uncompressedSize, 0);
  const SKOPEO = skopeoContender(ref);
  const FLOOR = 'floor: gzip -dc | sha256sum';
  const contenders = selected([
    SKOPEO,
    {
      name: FLOOR,
      memory: 'process RSS',
      run: async () => timed('bash', ['-c', `for f in ${blobs}/*; do gzip -dc "$f" | sha256sum >/dev/null; done`]),
    },
    cliContender(ref, 'uncompressed', ''),
    cliContender(ref, 'as-pulled', ''),
    // Not the default: what as-pulled costs without inflating layers to check their diff_ids.
    cliContender(ref, 'as-pulled', '', '--skip-diff-ids'),
    chromium.contender(ref, 'uncompressed'),
    // What the Settings checkbox "Compute the file's SHA-256" costs: one more pass over the whole file.
    chromium.contender(ref, 'uncompressed', ', file hashed', { hashFile: true }),
    chromium.contender(ref, 'as-pulled'),
  ]);
  if (!contenders.length) return;
  const results = await measure(contenders, scratch);
  const { has, seconds, rss, first, goals, check } = summary(results);
  const skopeo = seconds(SKOPEO.name);
  const floor = seconds(FLOOR);
  console.log(`\nLoopback, ${header(image, 'registry on 127.0.0.1')}\n`);
  console.log('| contender | wall s | vs skopeo | throughput (tar bytes) | vs floor | first bytes | peak memory |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of contenders) {
    const s = seconds(c.name);
    const f = first(c.name);
    console.log(
      `| ${c.name.replaceAll('|', '\\|')} | ${s.toFixed(2)} | ${(s / skopeo).toFixed(2)}× | ${(uncompressed / s / 1e6).toFixed(0)} MB/s | ${((floor / s) * 100).toFixed(0)} % | ${f === undefined ? '–' : `${f.toFixed(2)} s`} | ${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory} |`,
    );
  }
  for (const [mode, ratio] of [
    ['uncompressed', 0.8],
    ['as-pulled', 0.4],
  ] as const) {
    const name = `Skiff in Chromium, ${mode}`;
    if (!has(name)) continue;
    check(
      seconds(name) <= ratio * skopeo,
      `Chromium ${mode} ≤ ${ratio}× skopeo: ${(seconds(name) / skopeo).toFixed(2)}×`,
    );
    check(rss(name) < 300e6, `Chromium ${mode} memory rise < 300 MB: ${(rss(name) / 1e6).toFixed(0)} MB`);
    const f = first(name) ?? Infinity;
    check(f < 1, `Chromium ${mode} first bytes on disk < 1 s after the click: ${f.toFixed(2)} s`);
  }
  for (const name of ['Skiff in Chromium, uncompressed', 'Skiff in Node, uncompressed']) {
    if (has(name))
      check(
        floor / seconds(name) >= 0.7,
        `${name} throughput ≥ 70 % of the floor: ${((floor / seconds(name)) * 100).toFixed(0)} %`,
      );
  }
  for (const c of contenders.filter((c) => c.name.startsWith('Skiff in Node')))
    check(rss(c.name) < 200e6, `${c.name} RSS < 200 MB: ${(rss(c.name) / 1e6).toFixed(0)} MB`);
  console.log(`\nLoopback goals:\n${goals.join('\n')}`);
}

async function farProfile(image: PushedImage, registryUrl: string, chromium: ChromiumBench, scratch: string) {
  const proxy = await startThrottleProxy(registryUrl, LINK);
  let dockerd: Dockerd | undefined;
  try {
    const ref = `${proxy.host}/${image.repository}:${image.tag}`;
    const label = ' (far)';
    const dockerPull: Contender = {
      name: `docker pull${label}`,
      memory: 'docker CLI RSS',
      run: async () => {
        const m = await timed(DOCKER_CLI, ['pull', '--quiet', ref], dockerd!.env);
        return { ...m, extra: 'includes unpacking into vfs' };
      },
    };
    // Each run's log line says what crossed the link, so a contender that skipped bytes (a cache) shows.
    const throughProxy = (c: Contender): Contender => ({
      ...c,
      run: async (out) => {
        const from = proxy.carried.down;
        const opened = proxy.connections.total;
        proxy.connections.peak = proxy.connections.open;
        const m = await c.run(out);
        const carried = `${fmtMB(proxy.carried.down - from)} through the proxy over ${proxy.connections.total - opened} connections, ${proxy.connections.peak} at most at once`;
        return { ...m, extra: m.extra ? `${m.extra}, ${carried}` : carried };
      },
    });
    const contenders = selected([
      skopeoContender(ref, label),
      dockerPull,
      cliContender(ref, 'uncompressed', label),
      chromium.contender(ref, 'uncompressed', label),
    ]).map(throughProxy);
    const pullsWithDocker = contenders.some((c) => c.name === dockerPull.name);
    if (!contenders.length) return;
    if (pullsWithDocker) dockerd = await startDockerd();
    const results = await measure(contenders, scratch, async (c) => {
      // Every docker pull starts from an empty image store, as the others start from an empty file.
      if (c.name === dockerPull.name) await dockerd!.docker(['rmi', '--force', ref]).catch(() => undefined);
    });
    const { has, seconds, rss, goals, check } = summary(results);
    const bytes = image.layers.reduce((s, l) => s + l.size, 0);
    const floor = bytes / LINK.totalRate;
    const skopeo = seconds(`skopeo copy → docker-archive${label}`);
    const docker = seconds(dockerPull.name);
    console.log(
      `\nFar, ${header(image, `through the throttling proxy: ${LINK.latencyMs} ms per round trip, ${LINK.connectionRate / MB} MB/s per connection, ${LINK.totalRate / MB} MB/s in all`)}\n`,
    );
    console.log('| contender | wall s | vs skopeo | vs docker pull | vs the floor | peak memory |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const c of contenders) {
      const s = seconds(c.name);
      console.log(
        `| ${c.name} | ${s.toFixed(2)} | ${(s / skopeo).toFixed(2)}× | ${(s / docker).toFixed(2)}× | ${(s / floor).toFixed(2)}× | ${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory} |`,
      );
    }
    console.log(
      `| the link's floor (${fmtMB(bytes)} at ${LINK.totalRate / MB} MB/s) | ${floor.toFixed(2)} | ${(floor / skopeo).toFixed(2)}× | ${(floor / docker).toFixed(2)}× | 1.00× | – |`,
    );
    const name = `Skiff in Chromium, uncompressed${label}`;
    if (has(name)) {
      check(seconds(name) <= 0.35 * skopeo, `Chromium ≤ 0.35× skopeo: ${(seconds(name) / skopeo).toFixed(2)}×`);
      check(seconds(name) < docker, `Chromium faster than docker pull: ${(seconds(name) / docker).toFixed(2)}×`);
    }
    console.log(`\nFar goals:\n${goals.join('\n')}`);
  } finally {
    await dockerd?.stop();
    await proxy.stop();
  }
}

async function main() {
  const work = scratchDir('bench');
  const registry = await startRegistry({ cors: true });
  let chromium: ChromiumBench | undefined;
  try {
    console.error(`building the ${QUICK ? 'quick ' : ''}bench image …`);
    const image = await pushBenchImage(registry, QUICK ? QUICK_IMAGE : FULL_IMAGE);
    console.error(
      `image: ${image.layers.length} layers, ${fmtMB(image.layers.reduce((s, l) => s + l.size, 0))} gzip, ${fmtMB(image.layers.reduce((s, l) => s + l.uncompressedSize, 0))} tar`,
    );
    chromium = await startChromiumBench(pageHasParallel && PARALLEL ? { parallel: Number(PARALLEL) } : {});
    if (PROFILES.includes('loopback')) await loopbackProfile(image, registry.url, chromium, work.path);
    if (PROFILES.includes('far'))
      await farProfile(await pushFarImage(registry, image), registry.url, chromium, work.path);
  } finally {
    await chromium?.close();
    await registry.stop();
    work.remove();
  }
}

await main();
