/**
 * The push profile, on loopback: the bench image's tar and the big image's tar, each as Skiff writes it by
 * default (kept: gzip layers as served, pushed as they are) and uncompressed (every layer gzipped on the
 * way up), pushed by Skiff's Push view in Chromium and by `npm run push`, against
 * `skopeo copy docker-archive:TAR docker://…`. Every run pushes into a registry of its own, started empty
 * (a registry that already holds the blobs would let any tool skip them), and checks that the tag arrived.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { PushedImage } from '../support/images.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { startRegistry } from '../support/registry.ts';
import type { ChromiumBench } from './chromium.ts';
import type { PushJob } from './chromium-push.ts';
import { type Contender, context, fmtMB, measure, row, selected, summary, timed } from './measure.ts';

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

function job(tar: string, label: string): PushJob {
  return {
    tar,
    label,
    async withTarget(push) {
      const registry = await startRegistry({ cors: 'push' });
      try {
        const m = await push(`${registry.host}/pushed/app:1`);
        const res = await fetch(`${registry.url}/v2/pushed/app/manifests/1`, {
          method: 'HEAD',
          headers: { Accept: ACCEPT },
        });
        if (res.status !== 200)
          throw new Error(`after the push${label}, the registry answers ${res.status} for the tag`);
        return m;
      } finally {
        await registry.stop();
      }
    },
  };
}

export async function pushProfile(
  images: { bench: PushedImage; big: PushedImage },
  chromium: ChromiumBench,
  scratch: string,
) {
  const tars: { job: PushJob; bytes: number }[] = [];
  for (const [what, image] of [
    ['bench', images.bench],
    ['big', images.big],
  ] as const) {
    for (const mode of ['kept', 'uncompressed'] as const) {
      const tar = join(scratch, `${what}-${mode}.tar`);
      console.error(`writing the ${what} image's ${mode} tar to push …`);
      await pullToFile([image.reference], tar, { layers: mode });
      tars.push({ job: job(tar, ` (${what} tar, ${mode})`), bytes: statSync(tar).size });
    }
  }
  const SKOPEO = (j: PushJob) => `skopeo copy docker-archive: → docker://${j.label}`;
  const CLI = (j: PushJob) => `Skiff in Node, npm run push${j.label}`;
  const contenders = selected(
    tars.flatMap(({ job: j }): Contender[] => [
      {
        name: SKOPEO(j),
        memory: 'process RSS',
        run: () =>
          j.withTarget((ref) =>
            timed('skopeo', [
              '--insecure-policy',
              'copy',
              '--dest-tls-verify=false',
              `docker-archive:${j.tar}`,
              `docker://${ref}`,
            ]),
          ),
      },
      {
        name: CLI(j),
        memory: 'process RSS',
        run: () =>
          j.withTarget((ref) =>
            timed(process.execPath, ['--import', 'tsx', 'src/cli/push.ts', j.tar, '--to', ref, '--quiet']),
          ),
      },
      chromium.pushContender(j),
    ]),
  );
  if (!contenders.length) return;
  const results = await measure(contenders, scratch);
  const { has, seconds, rss, goals, check } = summary(results);
  console.log(
    `\nPush, ${new Date().toISOString().slice(0, 10)}, registry on 127.0.0.1, each run into an empty one: ${tars.map(({ job: j, bytes }) => `${j.label.slice(2, -1)} ${fmtMB(bytes)}`).join(', ')}; ${context()}\n`,
  );
  console.log('| contender | wall s | vs skopeo | throughput (tar bytes) | peak memory |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const { job: j, bytes } of tars) {
    const skopeo = seconds(SKOPEO(j));
    for (const c of contenders.filter((c) => c.name.endsWith(j.label))) {
      const s = seconds(c.name);
      console.log(
        row([
          c.name,
          s.toFixed(2),
          `${(s / skopeo).toFixed(2)}×`,
          `${(bytes / s / 1e6).toFixed(0)} MB/s`,
          `${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory}`,
        ]),
      );
      if (c.name === SKOPEO(j)) continue;
      if (has(SKOPEO(j))) check(s <= skopeo, `${c.name} ≤ 1.0× skopeo: ${(s / skopeo).toFixed(2)}×`);
      check(
        rss(c.name) < 200e6,
        `${c.name} ${c.memory.includes('rise') ? 'RSS rise' : 'RSS'} < 200 MB: ${(rss(c.name) / 1e6).toFixed(0)} MB`,
      );
    }
  }
  console.log(`\nPush goals:\n${goals.join('\n')}`);
}
