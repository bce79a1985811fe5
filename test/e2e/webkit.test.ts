/**
 * WebKitGTK (the MiniBrowser of libwebkit2gtk-4.1, driven by WebKitWebDriver under xvfb-run): the smoke
 * set. WebKit does not deliver service-worker downloads and cannot transfer a stream to a worker, so every
 * download takes the in-memory method, even with "Always stream" chosen.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type TestPage, launchWebKit } from './browsers.ts';
import { listFlow } from './list-flow.ts';
import { listing, pageText, smokeSuite, smokeWorld, waitForText } from './smoke.ts';

const world = smokeWorld(() => launchWebKit());

smokeSuite(world, {
  name: 'WebKit',
  method: 'blob',
  async inMemory(w, page, download) {
    // "Always stream" in the host's config: the page still falls back, and says why.
    w.server.config = { saveMethod: 'stream' };
    try {
      await page.goto(w.server.url);
      assert.equal(await page.evaluate(() => window.isSecureContext), true);
      // The fallback's reason, as the page probes it: a ReadableStream cannot be transferred here.
      const transfer = await page.evaluate(() => {
        const { readable } = new TransformStream();
        const channel = new MessageChannel();
        try {
          channel.port1.postMessage(readable, [readable]);
          return 'transferred';
        } catch (error) {
          return (error as DOMException).name;
        } finally {
          channel.port1.close();
          channel.port2.close();
        }
      });
      assert.equal(transfer, 'DataCloneError');
      await waitForText(page, 'This browser cannot stream a download to disk from a web page.');
      const text = await pageText(page);
      assert.ok(!text.includes('HTTPS or from localhost'), 'it is already served from localhost');
      return await download(w.server.url);
    } finally {
      w.server.config = {};
    }
  },
  async afterCancel(w, page) {
    const text = await pageText(page);
    assert.ok(!text.includes('.part'), 'no Firefox leftovers to speak of');
    // Held in memory until complete: a cancelled download never reached the folder.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(readdirSync(w.browser.downloads), [], listing(w.browser.downloads));
  },
});

describe('WebKit: a list of images', () => {
  let page: TestPage;
  before(async () => {
    page = await world().browser.newPage();
  });
  after(async () => {
    await page?.close();
  });

  it('pastes a list, refuses the typo by name, and downloads the rest into one tar', async () => {
    await listFlow(world(), page);
  });
});
