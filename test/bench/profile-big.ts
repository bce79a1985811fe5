/**
 * The big profile: a 6 GB image (three layers of 2 GB, image.ts) on loopback. Skiff in Chromium in the
 * default mode (kept) and uncompressed, each with the service-worker save (Download) and with "Save to…",
 * and Skiff's CLI in both modes, against skopeo to docker-archive (which inflates, like uncompressed). Every
 * Skiff contender also pulls the bench image, so its throughput on 6 GB is set beside its own on 1.4 GB.
 */
import type { PushedImage } from '../support/images.ts';
import type { ChromiumBench, LayerMode, SaveMethod } from './chromium.ts';
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
} from './measure.ts';

const LABEL = ' (big)';
const TWIN = ' (bench image)';

export async function bigProfile(big: PushedImage, bench: PushedImage, chromium: ChromiumBench, scratch: string) {
  const SKOPEO = skopeoToArchive(big.reference, LABEL);
  const skiff = (ref: string, label: string): Contender[] => [
    cliPull([ref], 'kept', label),
    cliPull([ref], 'uncompressed', label),
    ...(['kept', 'uncompressed'] as LayerMode[]).flatMap((mode) =>
      (['service worker', 'save to'] as SaveMethod[]).map((save) => chromium.contender(ref, mode, { label, save })),
    ),
  ];
  const bigOnes = skiff(big.reference, LABEL);
  const twins = skiff(bench.reference, TWIN);
  const contenders = selected([SKOPEO, ...bigOnes, ...twins]);
  if (!contenders.length) return;
  const results = await measure(contenders, scratch);
  const { has, seconds, rss, first, goals, check } = summary(results);
  const skopeo = seconds(SKOPEO.name);
  const rate = (image: PushedImage, name: string) => bytesOf(image).uncompressed / seconds(name);
  const twinOf = (name: string) => name.replace(LABEL, TWIN);
  console.log(
    `\nBig, ${header(big, 'registry on 127.0.0.1')}; beside: the bench image, ${fmtMB(bytesOf(bench).uncompressed)} tar\n`,
  );
  console.log(
    '| contender | wall s | vs skopeo | throughput (tar bytes) | on the bench image | first bytes | peak memory |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of contenders.filter((c) => !c.name.endsWith(TWIN))) {
    const s = seconds(c.name);
    const f = first(c.name);
    const twin = twinOf(c.name);
    console.log(
      row([
        c.name,
        s.toFixed(2),
        `${(s / skopeo).toFixed(2)}×`,
        `${(rate(big, c.name) / 1e6).toFixed(0)} MB/s`,
        has(twin)
          ? `${(rate(bench, twin) / 1e6).toFixed(0)} MB/s (${((rate(big, c.name) / rate(bench, twin)) * 100).toFixed(0)} %)`
          : '–',
        f === undefined ? '–' : `${f.toFixed(2)} s`,
        `${(rss(c.name) / 1e6).toFixed(0)} MB ${c.memory}`,
      ]),
    );
  }
  for (const c of bigOnes.filter((c) => has(c.name))) {
    const chromiumRow = c.name.startsWith('Skiff in Chromium');
    check(
      rss(c.name) < 300e6,
      `${c.name} ${chromiumRow ? 'memory rise' : 'RSS'} < 300 MB: ${(rss(c.name) / 1e6).toFixed(0)} MB`,
    );
    const twin = twinOf(c.name);
    if (has(twin)) {
      const ratio = rate(big, c.name) / rate(bench, twin);
      check(ratio >= 0.9, `${c.name} throughput within 10 % of the bench image's: ${(ratio * 100).toFixed(0)} %`);
    }
    if (!has(SKOPEO.name)) continue;
    const [limit, mode] = c.name.includes(', kept') ? [0.4, 'default mode (kept)'] : [1.0, 'uncompressed'];
    check(
      seconds(c.name) <= limit * skopeo,
      `${c.name}: ${mode} ≤ ${limit}× skopeo: ${(seconds(c.name) / skopeo).toFixed(2)}×`,
    );
  }
  console.log(`\nBig goals:\n${goals.join('\n')}`);
}
