/**
 * The smoke set every browser runs (firefox.test.ts, webkit.test.ts): a small and a ~105 MB download
 * loaded by `docker load` with the registry's config digest as the image ID, the offline kit, cancel and
 * the in-memory method. The files are read from the folder the browser itself saved them to.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLI, startDockerd, type Dockerd } from '../support/dockerd.ts';
import { fault, once, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, smallLayers, type PushedImage } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import type { TestBrowser, TestPage } from './browsers.ts';
import { buildApp, serveStatic, type StaticServer } from './harness.ts';

export const BIG_BYTES = 105_000_000;

export interface SmokeWorld {
  registry: Registry;
  /** In front of the registry, for faults (a stalled layer for cancel). */
  front: FaultProxy;
  dockerd: Dockerd;
  server: StaticServer;
  browser: TestBrowser;
  images: { small: PushedImage; oci: PushedImage; big: PushedImage };
  scratch: { path: string; remove(): void };
}

/** Starts everything a suite needs; `world()` is valid once `before` ran. */
export function smokeWorld(launch: () => Promise<TestBrowser>): () => SmokeWorld {
  let world: SmokeWorld | undefined;
  const parts: Partial<SmokeWorld> & { build?: { dir: string; remove(): void } } = {};
  before(async () => {
    const started = performance.now();
    const [registry, dockerd, build, browser] = await Promise.all([
      startRegistry({ cors: true }),
      startDockerd(),
      buildApp(),
      launch(),
    ]);
    Object.assign(parts, { registry, dockerd, build, browser });
    const [small, oci, big] = await Promise.all([
      pushImage(registry, 'small/docker', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
      pushImage(registry, 'small/oci', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
      pushImage(registry, 'big/noise', 'v1', {
        format: 'oci',
        layers: [
          // Stored deflate blocks: noise does not shrink, and level 0 is the fastest to make.
          { compression: 'gzip', level: 0, files: [{ path: 'noise.bin', content: { noise: BIG_BYTES } }] },
          { compression: 'gzip', files: [{ path: 'after.txt', content: 'after the big layer\n' }] },
        ],
      }),
    ]);
    parts.front = await startFaultProxy(registry.url, undefined, { cors: true });
    parts.server = await serveStatic(build.dir);
    parts.server.config = {};
    parts.scratch = scratchDir(`${browser.name}-smoke`);
    parts.images = { small, oci, big };
    world = parts as SmokeWorld;
    console.log(`# ${browser.name}: set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
  after(async () => {
    await parts.browser?.close();
    await Promise.all([parts.server?.stop(), parts.front?.stop(), parts.registry?.stop(), parts.dockerd?.stop()]);
    parts.build?.remove();
    parts.scratch?.remove();
  });
  return () => {
    if (!world) throw new Error('the smoke world is not set up');
    return world;
  };
}

// ---------------------------------------------------------------- driving the page

/** Polls `fn` in the page until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitInPage<T, A extends unknown[]>(
  page: TestPage,
  what: string,
  fn: (...args: A) => T,
  args: A,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.evaluate(fn, ...args);
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      const text = await pageText(page);
      throw new Error(`${what}: not seen within ${timeoutMs} ms. The page reads:\n${text.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function pageText(page: TestPage): Promise<string> {
  return page.evaluate(() => (document.body.innerText || document.body.textContent || '').replace(/[ \t]+/g, ' '));
}

export function waitForText(page: TestPage, text: string, timeoutMs?: number): Promise<boolean> {
  return waitInPage(
    page,
    `"${text}"`,
    (wanted: string) => (document.body.innerText || document.body.textContent || '').includes(wanted),
    [text],
    timeoutMs,
  );
}

/** Types the image name as the field receives it (one input event), then waits until it is resolved. */
export async function chooseImage(page: TestPage, image: string): Promise<void> {
  // The app mounts after it has read config.json: wait for its form.
  await waitInPage(page, 'the image field', () => !!document.querySelector('#image'), []);
  await page.evaluate((value: string) => {
    const input = document.querySelector<HTMLInputElement>('#image')!;
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, image);
  await waitInPage(page, `${image} resolved`, () => !!document.querySelector('section.details[aria-busy="false"]'), []);
}

/** A native click on the button whose text is exactly `name`. */
export async function clickButton(page: TestPage, name: string): Promise<void> {
  await waitInPage(
    page,
    `button "${name}"`,
    (wanted: string) => {
      document.querySelectorAll('[data-e2e-click]').forEach((e) => e.removeAttribute('data-e2e-click'));
      const button = [...document.querySelectorAll('button')].find(
        (b) => (b.textContent ?? '').trim() === wanted && !b.disabled,
      );
      button?.setAttribute('data-e2e-click', '');
      return !!button;
    },
    [name],
  );
  await page.click('[data-e2e-click]');
}

export interface DonePanel {
  fileName: string;
  /** Bytes written, as the page states them. */
  size: number;
  /** The SHA-256 the page computed while writing, when it shows one (the kit always; a tar when asked). */
  sha256?: string;
}

/** Waits for the Done panel and reads what it says about the file. */
export async function waitForDone(page: TestPage, timeoutMs = 60_000): Promise<DonePanel> {
  const done = await waitInPage(
    page,
    'the Done panel',
    () => {
      const fileName = document.querySelector('[data-testid="result-file"]')?.textContent?.trim();
      const size = document.querySelector('[data-testid="result-size"]')?.textContent ?? '';
      const sha256 = document.querySelector('[data-testid="result-sha256"]')?.textContent?.trim();
      return fileName ? { fileName, size, sha256 } : undefined;
    },
    [],
    timeoutMs,
  );
  const bytes = /\(([\d,]+) B\)/.exec(done.size)?.[1];
  assert.ok(bytes, `a size in bytes: ${done.size}`);
  return {
    fileName: done.fileName,
    size: Number(bytes.replace(/,/g, '')),
    ...(done.sha256 ? { sha256: done.sha256 } : {}),
  };
}

/** The file on disk is the one the page wrote: its size, and its SHA-256 when the page shows one. */
export async function assertSameFile(path: string, done: DonePanel): Promise<void> {
  assert.equal(statSync(path).size, done.size, `${path}: the size the page states`);
  if (done.sha256) assert.equal(await sha256File(path), done.sha256, `${path}: the SHA-256 the page states`);
}

// ---------------------------------------------------------------- the download folder

/** Waits until the browser has finished writing `name` into `dir` (no `.part`, size steady); returns its path. */
export async function waitForFile(dir: string, name: string, timeoutMs = 60_000): Promise<string> {
  const path = join(dir, name);
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  for (;;) {
    const partial = readdirSync(dir).some((f) => f.startsWith(name) && f !== name);
    const size = existsSync(path) ? statSync(path).size : -1;
    if (!partial && size > 0 && size === lastSize) return path;
    lastSize = size;
    if (Date.now() > deadline)
      throw new Error(`${name} did not finish within ${timeoutMs} ms; the folder holds ${listing(dir)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function listing(dir: string): string {
  return JSON.stringify(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size]));
}

export function emptyFolder(dir: string): void {
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

// ---------------------------------------------------------------- the suite

export interface SmokeOptions {
  name: string;
  /** How the browser saves a plain Download on a localhost page. */
  method: 'stream' | 'blob';
  /** Checks the in-memory method's text on the page it picks, and returns the file `download` saved there. */
  inMemory: (world: SmokeWorld, page: TestPage, download: (url: string) => Promise<string>) => Promise<string>;
  /** After Cancel: what the browser left in the folder is what the page said. */
  afterCancel: (world: SmokeWorld, page: TestPage, fileName: string) => Promise<void>;
}

export function smokeSuite(world: () => SmokeWorld, options: SmokeOptions): void {
  let page: TestPage;

  async function download(image: string, expectedName: string, timeoutMs?: number): Promise<string> {
    const w = world();
    await page.goto(w.server.url);
    await chooseImage(page, image);
    await clickButton(page, 'Download');
    const done = await waitForDone(page, timeoutMs);
    assert.equal(done.fileName, expectedName);
    const file = await waitForFile(w.browser.downloads, done.fileName, timeoutMs);
    await assertSameFile(file, done);
    return file;
  }

  /** Downloads small/oci from the page at `url` (it loads the page first), for the in-memory check. */
  async function downloadFrom(url: string): Promise<string> {
    const w = world();
    await page.goto(url);
    await chooseImage(page, `${w.registry.host}/small/oci:v1`);
    await clickButton(page, 'Download');
    const done = await waitForDone(page);
    const file = await waitForFile(w.browser.downloads, done.fileName);
    await assertSameFile(file, done);
    return file;
  }

  describe(`${options.name}: the smoke set`, () => {
    before(async () => {
      page = await world().browser.newPage();
    });
    after(async () => {
      await page?.close();
    });

    it('saves a small image that docker load reads, with the registry’s config digest as its ID', async () => {
      const w = world();
      emptyFolder(w.browser.downloads);
      const port = w.registry.host.split(':')[1];
      const image = `${w.registry.host}/small/docker:v1`;
      const file = await download(image, `127.0.0.1_${port}_small_docker_v1.tar`);
      const text = await pageText(page);
      assert.ok(text.includes(`docker load -i 127.0.0.1_${port}_small_docker_v1.tar`), text);
      await w.dockerd.load(file);
      assert.equal((await w.dockerd.inspect(image)).Id, w.images.small.configDigest);
    });

    it(`saves a ${Math.round(BIG_BYTES / 1e6)} MB image (${options.method}) that docker load reads`, async () => {
      const w = world();
      emptyFolder(w.browser.downloads);
      const port = w.registry.host.split(':')[1];
      const image = `${w.registry.host}/big/noise:v1`;
      const file = await download(image, `127.0.0.1_${port}_big_noise_v1.tar`, 120_000);
      assert.ok(statSync(file).size > BIG_BYTES, `${statSync(file).size} bytes`);
      await w.dockerd.load(file);
      assert.equal((await w.dockerd.inspect(image)).Id, w.images.big.configDigest);
      emptyFolder(w.browser.downloads);
    });

    it('saves an offline kit whose load.sh checks and loads every image', async () => {
      const w = world();
      emptyFolder(w.browser.downloads);
      await page.goto(w.server.url);
      for (const name of ['small/docker:v1', 'small/oci:v1']) {
        await chooseImage(page, `${w.registry.host}/${name}`);
        await clickButton(page, 'Add to archive');
        await waitForText(page, `${w.registry.host}/${name}`);
      }
      await page.click('input[name="format"][value="zip"]');
      await clickButton(page, 'Download 2 images');
      const done = await waitForDone(page);
      const zip = await waitForFile(w.browser.downloads, done.fileName);
      assert.ok(done.sha256, 'the kit is always hashed');
      await assertSameFile(zip, done);
      const dir = join(w.scratch.path, 'kit');
      rmSync(dir, { recursive: true, force: true });
      await runCommand('unzip', ['-q', zip, '-d', dir]);
      const { stdout } = await runCommand('sh', [join(dir, 'load.sh')], {
        env: { ...w.dockerd.env, DOCKER: DOCKER_CLI },
      });
      assert.match(stdout, /Loaded image: .*small\/docker:v1/);
      assert.match(stdout, /Loaded image: .*small\/oci:v1/);
      assert.equal((await w.dockerd.inspect(`${w.registry.host}/small/oci:v1`)).Id, w.images.oci.configDigest);
    });

    it('cancel stops the download, claims nothing, and says what is left in Downloads', async () => {
      const w = world();
      emptyFolder(w.browser.downloads);
      const layer = w.images.small.layers[1]!;
      const tail = `bytes=${layer.size - 8}-${layer.size - 1}`;
      // The layer's body stops after a few bytes with the connection open: a download in progress.
      w.front.setPlan(
        once((r) => r.method === 'GET' && r.path.includes(layer.digest) && r.range !== tail, fault.stall(200)),
      );
      try {
        await page.goto(w.server.url);
        await chooseImage(page, `${w.front.host}/small/docker:v1`);
        await clickButton(page, 'Download');
        await waitForText(page, 'downloading');
        // Long enough for a streamed download to have started in the browser.
        await new Promise((r) => setTimeout(r, 2000));
        await clickButton(page, 'Cancel');
        await waitForText(page, 'Cancelled.');
        assert.equal(await page.evaluate(() => !!document.querySelector('#result-title')), false, 'no Done panel');
        assert.ok(
          w.front.requests.some((r) => r.faults.includes('stall')),
          'the stall fault fired',
        );
        const port = w.front.host.split(':')[1];
        await options.afterCancel(w, page, `127.0.0.1_${port}_small_docker_v1.tar`);
      } finally {
        w.front.setPlan(undefined);
      }
    });

    it('the in-memory method says why it is used, and its file loads', async () => {
      const w = world();
      emptyFolder(w.browser.downloads);
      const file = await options.inMemory(w, page, downloadFrom);
      await w.dockerd.load(file);
      assert.equal((await w.dockerd.inspect(`${w.registry.host}/small/oci:v1`)).Id, w.images.oci.configDigest);
    });
  });
}
