/**
 * `npm run bench`: speed and memory of a pull, measured against skopeo and the `gzip -dc | sha256sum` floor
 * in the same run, on an image built here: real files from this machine's /usr (~250 MB of tar in four
 * layers) plus one ~1 GiB layer that compresses well. Contenders run in rotating order to cancel drift;
 * the table reports medians. BENCH_RUNS (default 3) sets the rounds; BENCH_ONLY=a,b limits the contenders.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FileSpec, type PushedImage, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry } from '../support/registry.ts';
import { chromiumContenders } from './chromium.ts';

const root = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REAL_BYTES = 250e6;
const BIG_BYTES = 2 ** 30;

export interface Measurement {
  seconds: number;
  peakRssBytes: number;
}

export interface Contender {
  name: string;
  /** What the peak memory figure means for this contender. */
  memory: string;
  run(out: string): Promise<Measurement>;
}

/** Regular files under the given roots, sorted, up to `limit` bytes: real content that compresses like real images. */
function realFiles(roots: string[], limit: number): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  let total = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= limit) return;
      const path = join(dir, name);
      let stat;
      try {
        stat = statSync(path, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && stat.size > 0 && stat.size < 50e6) {
        found.push({ path, size: stat.size });
        total += stat.size;
      }
    }
  };
  for (const r of roots) walk(r);
  return found;
}

/** Runs a command under GNU time for wall time and peak RSS. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Measurement {
  const result = spawnSync('/usr/bin/time', ['-f', '@@%e %M', command, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const match = /@@([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.slice(-2000)}`);
  return { seconds: Number(match[1]), peakRssBytes: Number(match[2]) * 1024 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main() {
  const work = scratchDir('bench');
  const registry = await startRegistry({ cors: true });
  try {
    console.error('building the bench image …');
    const files = realFiles(['/usr/share', '/usr/lib/x86_64-linux-gnu'], REAL_BYTES);
    const perLayer = Math.ceil(files.length / 4);
    const layers = [0, 1, 2, 3].map((i) => ({
      compression: 'gzip' as const,
      files: files.slice(i * perLayer, (i + 1) * perLayer).map((f): FileSpec => ({ path: f.path.slice(1), content: readFileSync(f.path) })),
    }));
    // ~1 GiB that compresses well: a big zero-filled file with some text beside it.
    layers.push({ compression: 'gzip', files: [{ path: 'data/zeros.img', content: { zeros: BIG_BYTES } }, { path: 'data/README', content: 'bench\n'.repeat(10_000) }] });
    const image: PushedImage = await pushImage(registry, 'bench/app', 'v1', { format: 'oci', layers, config: { Cmd: ['/bin/sh'] } });
    const compressed = image.layers.reduce((s, l) => s + l.size, 0);
    const uncompressed = image.layers.reduce((s, l) => s + l.uncompressedSize, 0);
    console.error(`image: ${image.layers.length} layers, ${(compressed / 1e6).toFixed(0)} MB gzip, ${(uncompressed / 1e6).toFixed(0)} MB tar`);

    // The floor reads the same blobs from disk.
    const blobs = join(work.path, 'blobs');
    mkdirSync(blobs);
    for (const layer of image.layers) {
      const response = await fetch(`${registry.url}/v2/bench/app/blobs/${layer.digest}`);
      writeFileSync(join(blobs, layer.digest.slice(7)), Buffer.from(await response.arrayBuffer()));
    }

    const ref = image.reference;
    const cli = (mode: string): Contender => ({
      name: `Skiff in Node, ${mode}`,
      memory: 'process RSS',
      run: async (out) => timed(process.execPath, ['--import', 'tsx', 'src/cli/pull.ts', ref, '-o', out, '--layers', mode, '--quiet']),
    });
    const contenders: Contender[] = [
      { name: 'skopeo copy → docker-archive', memory: 'process RSS', run: async (out: string) => timed('skopeo', ['copy', '--insecure-policy', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${out}:bench/app:v1`]) },
      { name: 'floor: gzip -dc | sha256sum', memory: 'process RSS', run: async () => timed('bash', ['-c', `for f in ${blobs}/*; do gzip -dc "$f" | sha256sum >/dev/null; done`]) },
      cli('uncompressed'),
      cli('as-pulled'),
      ...(await chromiumContenders(ref, registry.url)),
    ].filter((c) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').some((w) => c.name.toLowerCase().includes(w.toLowerCase())));

    const results = new Map<string, Measurement[]>(contenders.map((c) => [c.name, []]));
    for (let round = 0; round < RUNS; round++) {
      for (let i = 0; i < contenders.length; i++) {
        const contender = contenders[(i + round) % contenders.length]!;
        const out: string = join(work.path, 'out.tar');
        rmSync(out, { force: true });
        const m = await contender.run(out);
        rmSync(out, { force: true });
        console.error(`round ${round + 1}: ${contender.name}: ${m.seconds.toFixed(2)} s, ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
        results.get(contender.name)!.push(m);
      }
    }

    const seconds = (name: string) => median(results.get(name)!.map((m) => m.seconds));
    const skopeo = contenders.find((c) => c.name.startsWith('skopeo')) ? seconds('skopeo copy → docker-archive') : NaN;
    const floor = contenders.find((c) => c.name.startsWith('floor')) ? seconds('floor: gzip -dc | sha256sum') : NaN;
    const rows = contenders.map((c) => {
      const s = seconds(c.name);
      const rss = median(results.get(c.name)!.map((m) => m.peakRssBytes));
      return `| ${c.name.replaceAll('|', '\\|')} | ${s.toFixed(2)} | ${(s / skopeo).toFixed(2)}× | ${(uncompressed / s / 1e6).toFixed(0)} MB/s (${((floor / s) * 100).toFixed(0)} % of floor) | ${(rss / 2 ** 20).toFixed(0)} MiB ${c.memory} |`;
    });
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
    console.log(`Bench ${new Date().toISOString().slice(0, 10)}: ${image.layers.length} layers, ${(compressed / 1e6).toFixed(0)} MB gzip / ${(uncompressed / 1e6).toFixed(0)} MB tar; median of ${RUNS} rounds; ${cpu}, 2 cores\n`);
    console.log('| contender | wall s | vs skopeo | throughput (tar bytes) | peak memory |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await registry.stop();
    work.remove();
  }
}

await main();
