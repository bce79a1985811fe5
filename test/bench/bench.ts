/**
 * `npm run bench [-- loopback|far|list|big|push …] [quick] [flags]`: speed and memory of Skiff's pulls and
 * pushes, measured against other tools in the same run. Contenders run in rotating order to cancel drift;
 * the tables report medians, ratios beside the floors, and the goals as met or MISSED.
 *
 * - loopback: the registry on 127.0.0.1, so the CPU is the limit. The image is built here: real files from
 *   this machine's /usr (~250 MB of tar in four layers) plus one ~1 GiB layer that compresses well; against
 *   skopeo and the `gzip -dc | sha256sum` floor (profile-single.ts).
 * - far: the same registry behind a throttling proxy (throttle-proxy.ts: round-trip latency, a per-connection
 *   and a total rate), pulling the image's four real layers; against skopeo, `docker pull` into a dockerd
 *   started here, and the link's floor (bytes / total rate) (profile-single.ts).
 * - list: 20 images sharing three base layers on the far link; against `skopeo sync`, skopeo copying them one
 *   after another, and the floor (profile-list.ts).
 * - big: a 6 GB image (layers of 2 GB) on loopback, both save paths of the page and the CLI; against skopeo
 *   (profile-big.ts).
 * - push: the bench tar and the 6 GB tar pushed on loopback by the Push view and the CLI; against skopeo
 *   (profile-push.ts).
 * Default: all five. `quick`: small images and one round, for smoke runs.
 *
 * Flags (or env): --runs N (BENCH_RUNS, default 3; quick 1), --only a,b (BENCH_ONLY: contenders whose name
 * holds a word), --latency MS (BENCH_LATENCY_MS, 150), --connection-rate MB/s (BENCH_CONNECTION_MBPS, 4),
 * --total-rate MB/s (BENCH_TOTAL_MBPS, 16), --parallel N (BENCH_PARALLEL: passed to Skiff when its engine
 * has the option). BENCH_PROFILE=1 prints Chromium's CPU by thread; BENCH_DEBUG=1 names the other
 * processes that used CPU; BENCH_RETRIES (default 2; quick 0) reruns a run disturbed by other processes.
 */
import type { PushedImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry } from '../support/registry.ts';
import { startChromiumBench, type ChromiumBench } from './chromium.ts';
import {
  BIG_LAYER_BYTES,
  FULL_IMAGE,
  pushBenchImage,
  pushBigImage,
  pushFarImage,
  QUICK_BIG_LAYER_BYTES,
  QUICK_IMAGE,
} from './image.ts';
import { bytesOf, fmtMB } from './measure.ts';
import { bigProfile } from './profile-big.ts';
import { listProfile } from './profile-list.ts';
import { pushProfile } from './profile-push.ts';
import { farProfile, loopbackProfile } from './profile-single.ts';
import { pageHasParallel, PARALLEL, PROFILES, QUICK } from './settings.ts';

const describe = (image: PushedImage) => {
  const { compressed, uncompressed } = bytesOf(image);
  return `${image.layers.length} layers, ${fmtMB(compressed)} gzip, ${fmtMB(uncompressed)} tar`;
};

async function main() {
  const work = scratchDir('bench');
  const registry = await startRegistry({ cors: true });
  let chromium: ChromiumBench | undefined;
  try {
    const wants = (...profiles: string[]) => profiles.some((p) => PROFILES.includes(p as never));
    let bench: PushedImage | undefined;
    if (wants('loopback', 'far', 'big', 'push')) {
      console.error(`building the ${QUICK ? 'quick ' : ''}bench image …`);
      bench = await pushBenchImage(registry, QUICK ? QUICK_IMAGE : FULL_IMAGE);
      console.error(`bench image: ${describe(bench)}`);
    }
    let big: PushedImage | undefined;
    if (wants('big', 'push')) {
      console.error(`building the ${QUICK ? 'quick ' : ''}big image …`);
      big = await pushBigImage(registry, QUICK ? QUICK_BIG_LAYER_BYTES : BIG_LAYER_BYTES);
      console.error(`big image: ${describe(big)}`);
    }
    chromium = await startChromiumBench(pageHasParallel && PARALLEL ? { parallel: Number(PARALLEL) } : {});
    if (PROFILES.includes('loopback')) await loopbackProfile(bench!, registry.url, chromium, work.path);
    if (PROFILES.includes('far'))
      await farProfile(await pushFarImage(registry, bench!), registry.url, chromium, work.path);
    if (PROFILES.includes('list')) await listProfile(registry, chromium, work.path);
    if (PROFILES.includes('big')) await bigProfile(big!, bench!, chromium, work.path);
    if (PROFILES.includes('push')) await pushProfile({ bench: bench!, big: big! }, chromium, work.path);
  } finally {
    await chromium?.close();
    await registry.stop();
    work.remove();
  }
}

await main();
