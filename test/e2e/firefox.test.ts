/**
 * Firefox ESR (Debian's firefox-esr, headless, over WebDriver BiDi with puppeteer-core): the smoke set,
 * streamed through the service worker, and what happens when Firefox stops that worker mid-download.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fault, once } from '../support/fault-proxy.ts';
import { type TestPage, launchFirefox } from './browsers.ts';
import { listFlow } from './list-flow.ts';
import {
  BIG_BYTES,
  chooseImage,
  clickButton,
  emptyFolder,
  listing,
  smokeSuite,
  smokeWorld,
  waitForText,
} from './smoke.ts';

const world = smokeWorld(() => launchFirefox());

smokeSuite(world, {
  name: 'Firefox',
  method: 'stream',
  async inMemory(w, page, download) {
    // skiff.test is 127.0.0.1 (network.dns.localDomains) but not a secure context: no service workers.
    const url = w.server.url.replace('127.0.0.1', 'skiff.test');
    await page.goto(url);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    await waitForText(page, 'not served over HTTPS');
    await waitForText(page, 'Held in the browser until complete');
    return download(url);
  },
  async afterCancel(w, page, fileName) {
    await waitForText(page, 'Firefox may leave an empty file under the final name and a .part file');
    await new Promise((r) => setTimeout(r, 1000));
    // What is left is what the page says: nothing that looks like the finished file.
    for (const name of readdirSync(w.browser.downloads)) {
      const size = statSync(join(w.browser.downloads, name)).size;
      assert.ok(
        (name === fileName && size === 0) ||
          (name.startsWith(fileName.replace(/\.tar$/, '')) && name.endsWith('.part')),
        `unexpected ${listing(w.browser.downloads)}`,
      );
    }
  },
});

describe('Firefox: the download worker stopped mid-stream', () => {
  it('ends the download and says the file in Downloads is incomplete, though Firefox shows it finished', async () => {
    const w = world();
    // Idle time-outs far below the page's 10 s keep-alive: Firefox stops the worker while the stream runs.
    const browser = await launchFirefox({
      prefs: { 'dom.serviceWorkers.idle_timeout': 1000, 'dom.serviceWorkers.idle_extended_timeout': 1000 },
    });
    // The big layer answers after 8 s: by then the worker has been stopped, and the page's writes go nowhere.
    const layer = w.images.big.layers[0]!;
    w.front.setPlan(once((r) => r.method === 'GET' && r.path.includes(layer.digest) && !r.range, fault.delay(8000)));
    w.server.config = { layers: 'as-pulled', writeTimeoutSeconds: 5 };
    const page = await browser.newPage();
    try {
      emptyFolder(browser.downloads);
      await page.goto(w.server.url);
      await chooseImage(page, `${w.front.host}/big/noise:v1`);
      await clickButton(page, 'Download');
      await waitForText(page, 'The browser stopped taking the file (nothing for 5 s)', 40_000);
      await waitForText(
        page,
        'The file in your Downloads folder is incomplete, even if the browser lists it as finished',
      );
      const panels = await page.evaluate(() =>
        ['#result-title', '#progress-title'].map((s) => !!document.querySelector(s)),
      );
      assert.deepEqual(panels, [false, false], 'neither done nor still running');
      // What the page warns about: Firefox renamed the partial file to its final name.
      const port = w.front.host.split(':')[1];
      const file = join(browser.downloads, `127.0.0.1_${port}_big_noise_v1.tar`);
      assert.ok(statSync(file).size < BIG_BYTES, listing(browser.downloads));
    } finally {
      w.front.setPlan(undefined);
      w.server.config = {};
      await page.close();
      await browser.close();
    }
  });
});

describe('Firefox: a list of images', () => {
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
