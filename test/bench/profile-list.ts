/**
 * The list profile: 20 images (three shared base layers, 5–50 MB each, list-image.ts) on the far link, pulled
 * into one archive by Skiff's CLI (`npm run pull -- -f LIST`) and by Skiff in Chromium, against `skopeo sync`
 * (a YAML source, to a directory), skopeo copying the images one after another (to directories, the same
 * format as sync), and the link's floor: every distinct blob once at the total rate.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../support/registry.ts';
import type { ChromiumBench } from './chromium.ts';
import { LIST_LENGTH, pushListImages } from './list-image.ts';
import { cliPull, type Contender, context, fmtMB, measure, row, selected, summary, timed } from './measure.ts';
import { LINK, MB, QUICK } from './settings.ts';
import { throughProxy, startThrottleProxy } from './throttle-proxy.ts';

/** `c`, failing a run whose archive does not hold every image of the list. */
function holdsAll(c: Contender, count: number): Contender {
  return {
    ...c,
    run: async (out) => {
      const m = await c.run(out);
      const entries = JSON.parse(
        execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }),
      ) as unknown[];
      if (entries.length !== count) throw new Error(`${c.name} wrote ${entries.length} images, not ${count}`);
      return m;
    },
  };
}

export async function listProfile(registry: Registry, chromium: ChromiumBench, scratch: string) {
  console.error(`building the ${QUICK ? 'quick ' : ''}list of ${LIST_LENGTH} images …`);
  const list = await pushListImages(registry, QUICK);
  const proxy = await startThrottleProxy(registry.url, LINK);
  try {
    const refs = list.images.map((i) => `${proxy.host}/${i.repository}:${i.tag}`);
    const label = ' (list)';
    const yaml = join(scratch, 'sync.yaml');
    writeFileSync(
      yaml,
      `${proxy.host}:\n  tls-verify: false\n  images:\n${list.images.map((i) => `    ${i.repository}: ['${i.tag}']\n`).join('')}`,
    );
    const SYNC = `skopeo sync --src yaml --dest dir${label}`;
    const COPIES = `skopeo copy → dir, one image after another${label}`;
    const CHROMIUM = `Skiff in Chromium, kept${label}`;
    const contenders = selected([
      {
        name: SYNC,
        memory: 'process RSS',
        run: (out) => timed('skopeo', ['--insecure-policy', 'sync', '--src', 'yaml', '--dest', 'dir', yaml, out]),
      },
      {
        name: COPIES,
        memory: 'largest skopeo RSS',
        run: (out) =>
          timed('bash', [
            '-c',
            'out=$1; shift; mkdir -p "$out"; n=0; for ref; do n=$((n+1)); skopeo --insecure-policy copy --src-tls-verify=false "docker://$ref" "dir:$out/$n" || exit 1; done',
            'copies',
            out,
            ...refs,
          ]),
      },
      holdsAll(cliPull(refs, 'kept', label), LIST_LENGTH),
      holdsAll(chromium.listContender(refs, 'kept', label), LIST_LENGTH),
    ]).map((c) => throughProxy(proxy, c));
    if (!contenders.length) return;
    const results = await measure(contenders, scratch);
    const { has, seconds, rss, afterDownload, goals, check } = summary(results);
    const floor = list.distinctBytes / LINK.totalRate;
    const sync = seconds(SYNC);
    const copies = seconds(COPIES);
    console.log(
      `\nList, ${new Date().toISOString().slice(0, 10)}, ${LIST_LENGTH} images through the throttling proxy (${LINK.latencyMs} ms per round trip, ${LINK.connectionRate / MB} MB/s per connection, ${LINK.totalRate / MB} MB/s in all): ${fmtMB(list.distinctBytes)} of distinct blobs, ${fmtMB(list.sumBytes)} image by image; ${context()}\n`,
    );
    console.log(
      '| contender | wall s | vs skopeo sync | vs copies one by one | vs the floor | of it, Download → file | peak memory |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const line = (name: string, s: number, memory: string) =>
      console.log(
        row([
          name,
          s.toFixed(2),
          `${(s / sync).toFixed(2)}×`,
          `${(s / copies).toFixed(2)}×`,
          `${(s / floor).toFixed(2)}×`,
          afterDownload(name)?.toFixed(2) ?? '–',
          memory,
        ]),
      );
    for (const c of contenders) line(c.name, seconds(c.name), `${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory}`);
    line(`the link's floor (${fmtMB(list.distinctBytes)} at ${LINK.totalRate / MB} MB/s)`, floor, '–');
    if (has(CHROMIUM)) {
      const input = /input: ([^;]+)/.exec(results.get(CHROMIUM)![0]!.extra ?? '')?.[1];
      console.log(`\nThe page's names went in as: ${input}.`);
      const s = seconds(CHROMIUM);
      if (has(SYNC)) check(s <= 0.3 * sync, `Chromium ≤ 0.3× skopeo sync: ${(s / sync).toFixed(2)}×`);
      check(s <= 1.5 * floor, `Chromium ≤ 1.5× the link's floor: ${(s / floor).toFixed(2)}×`);
    }
    console.log(`\nList goals:\n${goals.join('\n')}`);
  } finally {
    await proxy.stop();
  }
}
