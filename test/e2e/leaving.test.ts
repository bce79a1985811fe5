/**
 * A tab that goes away mid-download, in Chromium: the streamed download must end as failed in the
 * browser's list, not stay "in progress" for good with part of the file on disk.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { always, fault, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { buildApp, launchBrowser, newPage, serveStatic, type StaticServer } from './harness.ts';

let registry: Registry;
let front: FaultProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
let bigLayer: { digest: string; size: number };

before(async () => {
  [registry, build, browser] = await Promise.all([startRegistry({ cors: true }), buildApp(), launchBrowser()]);
  const image = await pushImage(registry, 'big/leave', 'v1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', level: 0, files: [{ path: 'noise.bin', content: { noise: 60_000_000 } }] },
      { compression: 'gzip', files: [{ path: 'after.txt', content: 'after\n' }] },
    ],
  });
  bigLayer = image.layers[0]!;
  front = await startFaultProxy(registry.url, undefined, { cors: true });
  server = await serveStatic(build.dir);
  server.config = {};
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), front?.stop(), registry?.stop()]);
  build?.remove();
});

describe('leaving the page during a download', () => {
  it('reloading 3 s into a streamed download ends it as failed, and the page said so beforehand', async () => {
    // Every request for the layer (the engine may fetch it in parallel ranges) sends 4 MB, then the registry
    // goes quiet with the connection open: a download in progress.
    const tail = `bytes=${bigLayer.size - 8}-${bigLayer.size - 1}`;
    front.setPlan(
      always((r) => r.method === 'GET' && r.path.includes(bigLayer.digest) && r.range !== tail, fault.stall(4_000_000)),
    );
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).fill(`${front.host}/big/leave:v1`);
      await page.locator('section.details[aria-busy="false"]').waitFor();
      const downloading = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const download = await downloading;
      await page.getByText('Leaving or reloading this page ends the download').waitFor();
      await page.waitForTimeout(3000);
      assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 1, 'still downloading at 3 s');
      // The page asks before it goes (beforeunload); the person leaves anyway.
      page.on('dialog', (dialog) => void dialog.accept());
      await page.reload();
      const failure = await Promise.race([
        download.failure(),
        new Promise<string>((resolve) => setTimeout(() => resolve('still in progress after 20 s'), 20_000)),
      ]);
      assert.notEqual(failure, null, 'the browser must not see a finished file');
      assert.notEqual(failure, 'still in progress after 20 s');
    } finally {
      front.setPlan(undefined);
      await context.close();
    }
  });
});
