/**
 * The bench's command line: which profiles run, how many rounds, the far link's shape. Read once, shared by
 * every profile file.
 *
 * Words: loopback, far (the bench image), list (20 images on the far link), big (a 6 GB image on loopback),
 * push (pushing the bench tar and the 6 GB tar on loopback); none = all of them. `quick`: small images and one
 * round, for smoke runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MB = 1e6;

export const PROFILE_WORDS = ['loopback', 'far', 'list', 'big', 'push'] as const;
export type Profile = (typeof PROFILE_WORDS)[number];

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
  if (word !== 'quick' && !(PROFILE_WORDS as readonly string[]).includes(word))
    throw new Error(`unknown word "${word}": ${PROFILE_WORDS.join(', ')} or quick`);

export const QUICK = positionals.includes('quick') || !!process.env.BENCH_QUICK;
const named = positionals.filter((p): p is Profile => p !== 'quick');
export const PROFILES: readonly Profile[] = named.length ? named : PROFILE_WORDS;
export const RUNS = Number(flags.runs ?? process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
export const ONLY = flags.only ?? process.env.BENCH_ONLY;
export const LINK = {
  latencyMs: Number(flags.latency ?? process.env.BENCH_LATENCY_MS ?? 150),
  connectionRate: Number(flags['connection-rate'] ?? process.env.BENCH_CONNECTION_MBPS ?? 4) * MB,
  totalRate: Number(flags['total-rate'] ?? process.env.BENCH_TOTAL_MBPS ?? 16) * MB,
};
export const PARALLEL = flags.parallel ?? process.env.BENCH_PARALLEL;
/** A run during which other processes used more than this share of one core is run again (up to RETRIES times). */
export const BUSY_SHARE = 0.25;
export const RETRIES = Number(process.env.BENCH_RETRIES ?? (QUICK ? 0 : 2));

/** Whether the engine takes a `parallel` setting yet: the CLI's usage names `--parallel`, the page's config reads it. */
export const cliHasParallel = readFileSync(join(ROOT, 'src/cli/pull.ts'), 'utf8').includes('--parallel');
export const pageHasParallel = ['src/app/lib/config.ts', 'src/app/engine/config.ts'].some(
  (f) => existsSync(join(ROOT, f)) && readFileSync(join(ROOT, f), 'utf8').includes('value.parallel'),
);
