/**
 * A big image pulled in flat memory: Chromium's RSS (every process: browser, renderers with the page, its
 * engine worker and the service worker, GPU and utility processes), sampled every half second, rises less
 * than 300 MB however big the image, in the default mode (layers kept) and uncompressed, saved through the
 * service worker (Download) and through File System Access (Save to…); the CLI's RSS stays as flat. Each
 * file is the CLI's archive byte for byte (sha256).
 *
 * The image is incompressible layers of up to 2 GB stored in gzip (so a kept layer is as big in the file
 * as inflated). SKIFF_BIG_IMAGE_GB sets its size: 2 by default, 6 for the three 2 GB layers of a release.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchCdpChromium } from '../support/cdp-pipe.ts';
import { RssSampler, describeRises, rssOf } from '../support/chromium-memory.ts';
import { type LayerSpec, type PushedImage, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { ROOT, buildApp, serveStatic, type StaticServer } from './harness.ts';

const GB = 1e9;
const MB = 1e6;
const IMAGE_BYTES = Number(process.env.SKIFF_BIG_IMAGE_GB ?? 2) * GB;
const LAYER_BYTES = Math.min(2 * GB, IMAGE_BYTES);
/** The bound, whatever the image's size. */
const MAX_RISE = 300 * MB;
/** Generous: a loaded 2-core machine writes ≥ 20 MB/s. */
const TIMEOUT_MS = 120_000 + (IMAGE_BYTES / (20 * MB)) * 1000;

type Mode = 'kept' | 'uncompressed';

let registry: Registry;
let image: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
const scratch = scratchDir('big-image');
/** The CLI's archive's sha256, per mode: what every browser's file must equal. */
const expected = new Map<Mode, { sha256: string; size: number }>();

function bigLayers(): LayerSpec[] {
  const layers: LayerSpec[] = [];
  for (let left = IMAGE_BYTES, i = 0; left > 0; left -= LAYER_BYTES, i++)
    layers.push({
      compression: 'gzip',
      level: 0,
      files: [{ path: `big/part${i}.bin`, content: { noise: Math.min(left, LAYER_BYTES) } }],
    });
  return layers;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 8 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

before(async () => {
  [registry, build] = await Promise.all([startRegistry({ cors: true }), buildApp()]);
  image = await pushImage(
    registry,
    'big/release',
    'v1',
    { format: 'oci', layers: bigLayers() },
    { chunkSize: 64 << 20 },
  );
  server = await serveStatic(build.dir);
});

after(async () => {
  await server?.stop();
  await registry?.stop();
  build?.remove();
  scratch.remove();
});

/** `npm run pull` into a file, its RSS sampled every half second; returns the peak rise over its first sample. */
async function cliPull(mode: Mode, out: string): Promise<{ seconds: number; peak: number; first: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/pull.ts'), image.reference, '-o', out, '--quiet', '--layers', mode],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const started = performance.now();
  let first = 0;
  let peak = 0;
  const timer = setInterval(() => {
    const rss = rssOf(child.pid!);
    if (!rss) return;
    first ||= rss;
    peak = Math.max(peak, rss);
  }, 500);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  assert.equal(code, 0, stderr);
  return { seconds: (performance.now() - started) / 1000, peak, first };
}

describe(`a ${IMAGE_BYTES / GB} GB image (layers of ${LAYER_BYTES / GB} GB)`, () => {
  for (const mode of ['kept', 'uncompressed'] as const)
    it(`the CLI pulls it ${mode} in flat memory`, async () => {
      const out = join(scratch.path, `cli-${mode}.tar`);
      const run = await cliPull(mode, out);
      const size = statSync(out).size;
      assert.ok(size > IMAGE_BYTES, `the archive holds every layer (${size} bytes)`);
      expected.set(mode, { sha256: await sha256File(out), size });
      rmSync(out);
      console.log(
        `# CLI ${mode}: ${run.seconds.toFixed(1)} s, ${((size / MB / run.seconds) | 0).toString()} MB/s, RSS peak ${mib(run.peak)} (first sample ${mib(run.first)})`,
      );
      // Node's own start (tsx, the engine) is in the first sample; the rest is what the pull holds.
      assert.ok(run.peak < 400 * MB, `CLI peak RSS ${mib(run.peak)}`);
    });

  for (const [save, mode] of [
    ['Download', 'kept'],
    ['Download', 'uncompressed'],
    ['Save to…', 'kept'],
  ] as const)
    it(`in Chromium, "${save}" ${mode}: RSS rises < 300 MB and the file is the CLI's`, async () => {
      const want = expected.get(mode);
      assert.ok(want, 'the CLI test ran first');
      const profile = join(scratch.path, `profile-${Date.now()}`);
      const downloads = join(scratch.path, `downloads-${Date.now()}`);
      mkdirSync(downloads);
      server.config = { layers: mode };
      // Not Playwright: its DevTools sessions make Chromium keep copies of fetched bodies (see cdp-pipe.ts).
      const browser = await launchCdpChromium(profile);
      const sampler = new RssSampler(500);
      try {
        let finished: (state: string) => void;
        const downloaded = new Promise<string>((resolve) => (finished = resolve));
        browser.on('Browser.downloadProgress', (p) => {
          if (p.state === 'completed' || p.state === 'canceled') finished(p.state as string);
        });
        await browser.send('Browser.setDownloadBehavior', {
          behavior: 'allowAndName',
          downloadPath: downloads,
          eventsEnabled: true,
        });
        if (save === 'Save to…')
          // Headless Chromium refuses the real picker at once; the page gets a file in its private storage.
          await browser.send(
            'Page.addScriptToEvaluateOnNewDocument',
            {
              source: `window.showSaveFilePicker = async (options) =>
                (await navigator.storage.getDirectory()).getFileHandle(options?.suggestedName ?? 'picked.tar', { create: true });`,
            },
            browser.page,
          );
        await browser.send(
          'Page.navigate',
          { url: `${server.url}?image=${encodeURIComponent(image.reference)}` },
          browser.page,
        );
        await browser.waitFor(
          `document.querySelector('section.details[aria-busy="false"]')`,
          60_000,
          'the image resolved',
        );
        // Idle: the page is loaded and the image resolved; the baseline is taken once the browser settles.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        sampler.start();
        const started = performance.now();
        await browser.evaluate(
          `[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === ${JSON.stringify(save)}).click()`,
        );
        const failed = `document.querySelector('[role="alert"].shown')?.textContent`;
        await browser.waitFor(`document.getElementById('result-title') || ${failed}`, TIMEOUT_MS, 'Done');
        assert.equal(await browser.evaluate(`${failed} ?? null`), null, 'the page shows no error');
        let path: string;
        if (save === 'Download') {
          assert.equal(await downloaded, 'completed');
          const [name] = readdirSync(downloads);
          path = join(downloads, name!);
        } else path = opfsFile(profile, want.size);
        const seconds = (performance.now() - started) / 1000;
        const report = sampler.stop();
        console.log(
          `# Chromium ${save} ${mode}: ${seconds.toFixed(1)} s, RSS rise ${mib(report.peakRise)}; by process: ${describeRises(report)}\n#   rise each 0.5 s (MiB): ${report.timeline.join(' ')}`,
        );
        assert.equal(statSync(path).size, want.size, 'the whole file');
        assert.equal(await sha256File(path), want.sha256, "the CLI's archive, byte for byte");
        assert.ok(report.peakRise < MAX_RISE, `RSS rose ${mib(report.peakRise)}: ${describeRises(report)}`);
      } finally {
        sampler.stop();
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
        rmSync(downloads, { recursive: true, force: true });
      }
    });
});

/** The page's private-storage file of `size` bytes, found in the profile on disk (Chromium stores OPFS files as they are). */
function opfsFile(profile: string, size: number): string {
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if (entry.isFile() && statSync(path).size === size) return path;
    }
    return undefined;
  };
  const found = walk(profile);
  assert.ok(found, `no file of ${size} bytes in the page's private storage`);
  return found;
}
