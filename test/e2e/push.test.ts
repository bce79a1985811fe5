/**
 * The Push view in real Chromium: a tar Skiff saved (a ~190 MB incompressible layer) chosen with the
 * "Tar file" control, pushed into a real registry that answers CORS for uploads, the result read back;
 * and a tampered tar refused with no tag made.
 *
 * SKIFF_SCREENSHOTS=docs/screenshots also writes a screenshot of the finished push there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { isSkiffError } from '../../src/core/errors.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { walkTar } from '../../src/core/archive/tar-read.ts';
import { fromWebBlob } from '../../src/core/archive/random-access.ts';
import { type PushedImage, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { type RunningServer, startServer } from '../../src/relay/serve.ts';
import { chromiumRss } from '../bench/chromium.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const NOISE_BYTES = 190_000_000;

let source: Registry;
let target: Registry;
/** A registry with a password and no CORS headers, as Harbor is: reached through `npm start`'s relay. */
let harborLike: Registry;
let relayServer: RunningServer;
let image: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
const scratch = scratchDir('e2e-push');
const tarPath = join(scratch.path, 'big.tar');
const smallTar = join(scratch.path, 'small.tar');

before(async () => {
  [source, target, harborLike, build, browser] = await Promise.all([
    startRegistry(),
    startRegistry({ cors: 'push' }),
    startRegistry({ auth: { htpasswd: { username: 'alice', password: 'secret' } } }),
    buildApp(),
    launchBrowser(),
  ]);
  image = await pushImage(source, 'big/app', '1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', level: 0, files: [{ path: 'noise.bin', content: { noise: NOISE_BYTES } }] },
      { compression: 'gzip', files: [{ path: 'after.txt', content: 'after the big layer\n' }] },
    ],
  });
  const small = await pushImage(source, 'small/app', '1', {
    format: 'docker',
    layers: [{ compression: 'none', files: [{ path: 'hello.txt', content: 'hello\n'.repeat(5000) }] }],
  });
  await pullToFile([image.reference], tarPath, { layers: 'as-pulled' });
  await pullToFile([small.reference], smallTar, { layers: 'uncompressed' });
  server = await serveStatic(build.dir);
  server.config = {};
  const host = harborLike.host;
  relayServer = await startServer({
    config: relayConfigFromEnv({ RELAY_ALLOW_PRIVATE: host, RELAY_PLAIN_HTTP: host, RELAY_ALLOW_PUSH: host }),
    distDir: build.dir,
    port: 0,
    log: () => {},
  });
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), relayServer?.close(), source?.stop(), target?.stop(), harborLike?.stop()]);
  build?.remove();
  scratch.remove();
});

describe('Push view', () => {
  it('pushes a tar of a few hundred MB chosen from disk, with progress, and shows the digest and pull command', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      await page.getByLabel('Tar file').setInputFiles(tarPath);
      await page.getByTestId('push-holds').waitFor();
      const field = page.getByLabel('Push to');
      assert.equal(await field.inputValue(), image.reference, "prefilled with the tar's own tag");
      const reference = `${target.host}/pushed/app:1.4`;
      await field.fill(reference);
      // Memory of every Chromium process, at rest and then while the push runs.
      const idle = chromiumRss();
      let peak = idle;
      const timeline: number[] = [];
      const sampler = setInterval(() => {
        const now = chromiumRss();
        peak = Math.max(peak, now);
        timeline.push(Math.round((now - idle) / 2 ** 20));
      }, 500);
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page.getByText('Pushing').waitFor();
      // Progress moves while the big layer uploads.
      await page.locator('tr[data-state="uploading"]').first().waitFor();
      await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 300_000 });
      clearInterval(sampler);
      const rise = peak - idle;
      console.log(
        `# Chromium RSS rise while pushing ${NOISE_BYTES / 1e6} MB: ${(rise / 2 ** 20).toFixed(0)} MiB (${timeline.join(' ')})`,
      );
      const digest = (await page.getByTestId('pushed-digest').textContent())!.trim();
      const back = await resolve(reference);
      assert.equal(back.manifest.digest, digest);
      assert.equal(back.config.digest, image.configDigest, 'the image ID is the one in the tar');
      assert.equal(back.manifest.digest, image.manifestDigest, 'layers as the tar names them: the same manifest');
      await page.getByText(`docker pull ${target.host}/pushed/app@${digest}`).waitFor();
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'push-1280.png'), fullPage: true });
      }
      // A HEAD for a blob the registry lacks answers 404, which Chromium logs; that is the protocol, not a fault.
      assert.deepEqual(
        problems.errors.filter((e) => !/status of 404/.test(e)),
        [],
      );
    } finally {
      await context.close();
    }
  });

  it('refuses a tampered tar and creates no tag', async () => {
    const bytes = readFileSync(smallTar);
    const entries = await walkTar(fromWebBlob(new Blob([bytes])));
    const layer = entries.filter((e) => e.name.startsWith('blobs/')).sort((a, b) => b.size - a.size)[0]!;
    bytes[layer.offset + 2000]! ^= 0x20;
    const tampered = join(scratch.path, 'tampered.tar');
    writeFileSync(tampered, bytes);
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      await page.getByLabel('Tar file').setInputFiles(tampered);
      const reference = `${target.host}/tampered/app:1`;
      await page.getByLabel('Push to').fill(reference);
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page
        .getByRole('alert')
        .getByText(/does not match its digest/)
        .waitFor();
      await assert.rejects(resolve(reference), (error: unknown) => isSkiffError(error, 'not-found'));
    } finally {
      await context.close();
    }
  });

  it('pushes through the relay to a registry without CORS, signed in', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      await page.getByLabel('Tar file').setInputFiles(smallTar);
      const reference = `${harborLike.host}/team/small:2`;
      await page.getByLabel('Push to').fill(reference);
      await page.getByText(`Sign in to ${harborLike.host}`).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('secret');
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 120_000 });
      const digest = (await page.getByTestId('pushed-digest').textContent())!.trim();
      const back = await resolve(reference, { credentials: { username: 'alice', password: 'secret' } });
      assert.equal(back.manifest.digest, digest);
      // Its one uncompressed layer went up gzipped: the manifest names a gzip layer, the config is the tar's.
      assert.match(back.layers[0]!.descriptor.mediaType, /gzip/);
    } finally {
      await context.close();
    }
  });
});
