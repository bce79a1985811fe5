/**
 * The bench image's two profiles. loopback: the registry on 127.0.0.1, so the CPU is the limit (against
 * skopeo and the `gzip -dc | sha256sum` floor). far: the same registry behind the throttling proxy, the
 * image's four real layers (against skopeo, `docker pull` into a dockerd started here, and the link's floor).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_CLI, startDockerd, type Dockerd } from '../support/dockerd.ts';
import type { PushedImage } from '../support/images.ts';
import type { ChromiumBench } from './chromium.ts';
import {
  bytesOf,
  cliPull,
  type Contender,
  fmtMB,
  header,
  measure,
  row,
  selected,
  skopeoToArchive,
  summary,
  timed,
} from './measure.ts';
import { LINK, MB } from './settings.ts';
import { throughProxy, startThrottleProxy } from './throttle-proxy.ts';

export async function loopbackProfile(
  image: PushedImage,
  registryUrl: string,
  chromium: ChromiumBench,
  scratch: string,
) {
  // The floor reads the same blobs from disk.
  const blobs = join(scratch, 'blobs');
  mkdirSync(blobs);
  for (const layer of image.layers) {
    const response = await fetch(`${registryUrl}/v2/bench/app/blobs/${layer.digest}`);
    writeFileSync(join(blobs, layer.digest.slice(7)), Buffer.from(await response.arrayBuffer()));
  }
  const ref = image.reference;
  const { uncompressed } = bytesOf(image);
  const SKOPEO = skopeoToArchive(ref);
  const FLOOR = 'floor: gzip -dc | sha256sum';
  const contenders = selected([
    SKOPEO,
    {
      name: FLOOR,
      memory: 'process RSS',
      run: async () => timed('bash', ['-c', `for f in ${blobs}/*; do gzip -dc "$f" | sha256sum >/dev/null; done`]),
    },
    cliPull([ref], 'uncompressed', ''),
    cliPull([ref], 'as-pulled', ''),
    // Not the default: what as-pulled costs without inflating layers to check their diff_ids.
    cliPull([ref], 'as-pulled', '', '--skip-diff-ids'),
    chromium.contender(ref, 'uncompressed'),
    // What the Settings checkbox "Compute the file's SHA-256" costs: one more pass over the whole file.
    chromium.contender(ref, 'uncompressed', { note: 'file hashed', config: { hashFile: true } }),
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
      row([
        c.name,
        s.toFixed(2),
        `${(s / skopeo).toFixed(2)}×`,
        `${(uncompressed / s / 1e6).toFixed(0)} MB/s`,
        `${((floor / s) * 100).toFixed(0)} %`,
        f === undefined ? '–' : `${f.toFixed(2)} s`,
        `${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory}`,
      ]),
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

export async function farProfile(image: PushedImage, registryUrl: string, chromium: ChromiumBench, scratch: string) {
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
    const SKOPEO = skopeoToArchive(ref, label);
    const contenders = selected([
      SKOPEO,
      dockerPull,
      cliPull([ref], 'uncompressed', label),
      chromium.contender(ref, 'uncompressed', { label }),
    ]).map((c) => throughProxy(proxy, c));
    const pullsWithDocker = contenders.some((c) => c.name === dockerPull.name);
    if (!contenders.length) return;
    if (pullsWithDocker) dockerd = await startDockerd();
    const results = await measure(contenders, scratch, async (c) => {
      // Every docker pull starts from an empty image store, as the others start from an empty file.
      if (c.name === dockerPull.name) await dockerd!.docker(['rmi', '--force', ref]).catch(() => undefined);
    });
    const { has, seconds, rss, goals, check } = summary(results);
    const bytes = bytesOf(image).compressed;
    const floor = bytes / LINK.totalRate;
    const skopeo = seconds(SKOPEO.name);
    const docker = seconds(dockerPull.name);
    console.log(
      `\nFar, ${header(image, `through the throttling proxy: ${LINK.latencyMs} ms per round trip, ${LINK.connectionRate / MB} MB/s per connection, ${LINK.totalRate / MB} MB/s in all`)}\n`,
    );
    console.log('| contender | wall s | vs skopeo | vs docker pull | vs the floor | peak memory |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    const line = (name: string, s: number, memory: string) =>
      console.log(
        row([
          name,
          s.toFixed(2),
          `${(s / skopeo).toFixed(2)}×`,
          `${(s / docker).toFixed(2)}×`,
          `${(s / floor).toFixed(2)}×`,
          memory,
        ]),
      );
    for (const c of contenders) line(c.name, seconds(c.name), `${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory}`);
    line(`the link's floor (${fmtMB(bytes)} at ${LINK.totalRate / MB} MB/s)`, floor, '–');
    const name = `Skiff in Chromium, uncompressed${label}`;
    if (has(name)) {
      const s = seconds(name);
      if (has(SKOPEO.name)) check(s <= 0.3 * skopeo, `Chromium ≤ 0.3× skopeo: ${(s / skopeo).toFixed(2)}×`);
      check(s <= 1.3 * floor, `Chromium ≤ 1.3× the link's floor: ${(s / floor).toFixed(2)}×`);
      if (has(dockerPull.name)) check(s < docker, `Chromium faster than docker pull: ${(s / docker).toFixed(2)}×`);
    }
    console.log(`\nFar goals:\n${goals.join('\n')}`);
  } finally {
    await dockerd?.stop();
    await proxy.stop();
  }
}
