/**
 * A registry that stops answering in the middle of a download, seen from the page in real Chromium: the
 * page says which host stopped and how, and the download ends as failed (no Done panel, the browser's
 * download failed). config.json's `waitSeconds` scales the engine's wait policy down to a few seconds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Download } from 'playwright-core';
import { type FaultProxy, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, pushImage } from '../support/images.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { buildApp, launchBrowser, newPage, serveStatic, type StaticServer, waitResolved } from './harness.ts';

/** The policy's deadline for this page (config.json); every other wait is a third of it. */
const WAIT_SECONDS = 6;

let registry: Registry;
let front: FaultProxy;
let image: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;

before(async () => {
  [registry, build, browser] = await Promise.all([startRegistry({ cors: true }), buildApp(), launchBrowser()]);
  image = await pushImage(registry, 'waits/app', 'v1', {
    format: 'oci',
    // 12 MB that gzip cannot shrink: three Range segments, so bytes are flowing when the registry stops.
    layers: [{ compression: 'gzip', level: 1, files: [{ path: 'noise.bin', content: { noise: 12_000_000 } }] }],
  });
  front = await startFaultProxy(registry.url);
  server = await serveStatic(build.dir);
  server.config = { waitSeconds: WAIT_SECONDS };
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await front?.stop();
  await registry?.stop();
  build?.remove();
});

describe('a registry that stops answering mid-download', () => {
  it('the page names the host, says it did not answer, and ends the download as failed', async () => {
    const layer = image.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const tail = `bytes=${layer.size - 8}-${layer.size - 1}`;
    // The layer's first requests get 1 MB each and then nothing more; every request after them is taken and
    // never answered: the registry has stopped in the middle of the download.
    let started = 0;
    front.setPlan((r) => {
      if (r.method === 'OPTIONS' || !r.path.endsWith(`/blobs/${layer.digest}`) || r.range === tail) return undefined;
      return started++ < 3 ? fault.stall(1_000_000) : fault.hang();
    });
    const { context, page } = await newPage(browser);
    const downloads: Download[] = [];
    page.on('download', (download) => downloads.push(download));
    try {
      await page.goto(`${server.url}?image=${encodeURIComponent(`${front.host}/${image.repository}:v1`)}`);
      await waitResolved(page);
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const began = Date.now();
      await page.getByRole('cell', { name: 'downloading' }).first().waitFor();

      const alert = page.getByRole('alert');
      await alert
        .getByText(`${front.host} did not answer`)
        .first()
        .waitFor({ timeout: (WAIT_SECONDS + 20) * 1000 });
      const ended = Date.now() - began;
      const text = (await alert.innerText()).replace(/\s+/g, ' ');
      assert.match(text, /That did not work/);
      assert.match(text, new RegExp(`${front.host} did not answer: it accepted the connection but sent nothing back`));
      assert.ok(ended < (WAIT_SECONDS + 15) * 1000, `the page gave up after ${ended} ms`);
      await page.getByText('Details').click();
      assert.match(await alert.innerText(), /did not answer within 2 s \(gave up after \d tries\)/);
      await page.screenshot({ path: '/tmp/skiff-waits-page.png' });

      // The download ended as failed: no Done panel, and a file the browser had started is marked failed.
      await page.waitForTimeout(500);
      assert.equal(await page.getByRole('heading', { name: 'Done' }).count(), 0, 'no Done panel');
      for (const download of downloads) assert.notEqual(await download.failure(), null, 'the download failed');
      assert.ok(
        front.requests.some((r) => r.faults.includes('hang')),
        'requests after the stall were taken and not answered',
      );

      // Told again in Chinese, the host still named.
      await page.getByLabel('Language').selectOption('zh');
      await alert.getByText(`${front.host} 没有应答`).first().waitFor();
      assert.match(await alert.innerText(), /连接已建立，但对方什么也没有返回/);
      await page.screenshot({ path: '/tmp/skiff-waits-page-zh.png' });
    } finally {
      front.setPlan(undefined);
      await context.close();
    }
  });
});
