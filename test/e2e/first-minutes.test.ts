/**
 * What a person meets in the first minutes (issue 12's behaviour items), in real Chromium against real
 * registries: typed at a person's pace, driven by the keyboard, counted at the registry and token server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { answerPreflights, fault, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { type LayerSpec, type Platform, prose, pushImage, pushIndex, smallLayers } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startTokenServer, type TokenRequestRecord, type TokenServer } from '../support/token-server.ts';
import { buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

/** A person's pace: the 0.7 s between keys, so that every key is a pause the old page acted on. */
const KEY_DELAY_MS = 700;

let registry: Registry;
let front: FaultProxy;
let tokens: TokenServer;
let secured: Registry;
/** distribution answers a preflight with 401 when auth is on: the proxy answers preflights for it. */
let securedFront: FaultProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;

/** Layers that inflate to several times their size, so that the two layer modes differ a lot. */
function proseLayers(count: number, bytes: number): LayerSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    compression: 'gzip' as const,
    files: [{ path: `text/${i}.txt`, content: prose(bytes, `layer-${i}`) }],
  }));
}

/** Clears the field and types `text` key by key, as a person does. */
async function typeName(page: Page, text: string, delay = 60): Promise<void> {
  const field = page.getByLabel('Image', { exact: true });
  await field.focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await field.pressSequentially(text, { delay });
}

async function alertText(page: Page): Promise<string> {
  return ((await page.getByRole('alert').textContent()) ?? '').trim();
}

/** "12.3 MB" → bytes, as formatBytes writes them. */
function parseBytes(text: string): number {
  const match = /([\d.]+)\s*(B|kB|MB|GB|TB)/.exec(text);
  assert.ok(match, `no size in ${JSON.stringify(text)}`);
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
  return Number(match[1]) * units[match[2]!]!;
}

before(async () => {
  const started = performance.now();
  tokens = await startTokenServer({ users: { bob: 'hunter2bob' }, cors: true });
  [registry, secured, build, browser] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry({ cors: true, auth: { token: tokens } }),
    buildApp(),
    launchBrowser(),
  ]);
  const platforms: Platform[] = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
  ];
  const children = [];
  for (const platform of platforms)
    children.push({
      image: await pushImage(registry, 'team/multi', null, { format: 'oci', platform, layers: smallLayers('gzip') }),
    });
  await Promise.all([
    pushIndex(registry, 'team/multi', 'v1', children, { format: 'oci' }),
    pushImage(registry, 'team/single', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(registry, 'team/text', 'v1', { format: 'oci', layers: proseLayers(2, 400_000) }),
    pushImage(registry, 'team/layers', 'v1', { format: 'oci', layers: proseLayers(8, 60_000) }),
    pushImage(secured, 'team/app', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
  ]);
  front = await startFaultProxy(registry.url, answerPreflights);
  securedFront = await startFaultProxy(secured.url, answerPreflights);
  server = await serveStatic(build.dir);
  server.config = {};
  console.log(`# set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

after(async () => {
  await browser?.close();
  await Promise.all([
    server?.stop(),
    front?.stop(),
    securedFront?.stop(),
    registry?.stop(),
    secured?.stop(),
    tokens?.stop(),
  ]);
  build?.remove();
});

describe('the first minutes', () => {
  it('keeps a picked platform with the image it was picked for, and a link’s platform with the link’s image', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeName(page, `${registry.host}/team/multi:v1`);
      await waitResolved(page, 'linux/amd64');
      await page.getByLabel('Platform').selectOption('linux/arm/v7');
      await waitResolved(page, 'linux/arm/v7');
      // The next image has one build only: it resolves as it is, with no platform error.
      await typeName(page, `${registry.host}/team/single:v1`);
      await waitResolved(page, 'linux/amd64');
      assert.equal(await alertText(page), '');
      assert.equal(new URL(page.url()).searchParams.get('platform'), null);

      const image = `${registry.host}/team/multi:v1`;
      await page.goto(`${server.url}?image=${encodeURIComponent(image)}&platform=windows/amd64`);
      await page.getByRole('alert').getByText('Available: linux/amd64, linux/arm64, linux/arm/v7').waitFor();
      await typeName(page, `${registry.host}/team/single:v1`);
      await waitResolved(page, 'linux/amd64');
      assert.equal(await alertText(page), '');
    } finally {
      await context.close();
    }
  });

  it('never leaves the typed image out when the archive already holds one', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeName(page, `${registry.host}/team/multi:v1`);
      await waitResolved(page);
      await page.getByRole('button', { name: 'Add to archive' }).click();
      await page.getByRole('button', { name: 'Download 1 image', exact: true }).waitFor();
      await typeName(page, `${registry.host}/team/single:v1`);
      await page.getByRole('button', { name: 'Download 2 images', exact: true }).waitFor();
      const downloading = page.waitForEvent('download');
      await page.getByLabel('Image', { exact: true }).press('Enter');
      await downloading;
      const loaded = page.locator('section.result ul.images li');
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const names = await loaded.allTextContents();
      assert.equal(names.length, 2, names.join('\n'));
      assert.ok(names.some((n) => n.includes('team/single:v1')));
      assert.ok(names.some((n) => n.includes('team/multi:v1')));
    } finally {
      await context.close();
    }
  });

  it('signs in on Sign in or Enter only, never on a pause while the password is typed', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeName(page, `${securedFront.host}/team/app:v1`);
      await page.getByRole('alert').getByText('needs you to sign in').waitFor();
      tokens.requests.length = 0;
      await page.getByLabel('Username').pressSequentially('bob', { delay: KEY_DELAY_MS });
      await page.getByLabel('Password').pressSequentially('hunter2bob', { delay: KEY_DELAY_MS });
      await page.waitForTimeout(2000);
      assert.deepEqual(tokens.requests, [], 'token requests while typing');
      await page.getByText('Not sent yet: press Sign in or Enter.').waitFor();
      await page.getByLabel('Password').press('Enter');
      await waitResolved(page, 'linux/amd64');
      assert.equal(await alertText(page), '');
      const requests: TokenRequestRecord[] = [...tokens.requests];
      const attempts = requests.filter((r) => r.account !== undefined || r.status !== 200);
      assert.equal(attempts.length, 1, JSON.stringify(requests));
      assert.equal(requests.filter((r) => r.status !== 200).length, 0);
      // Enter signed in: it did not start a download.
      assert.equal(await page.locator('section.progress-card').count(), 0);
    } finally {
      await context.close();
    }
  });

  it('looks up only the complete name once typing has settled', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      // The app mounts after the load event: the alert region must be there before it is watched.
      await page.locator('[role="alert"]').waitFor({ state: 'attached' });
      front.reset();
      // Every text the alert shows while the name is typed, caught as it appears.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { seenAlerts: string[] }).seenAlerts = seen;
        const alert = document.querySelector('[role="alert"]')!;
        new MutationObserver(() => {
          const text = alert.textContent?.trim();
          if (text) seen.push(text);
        }).observe(alert, { childList: true, subtree: true, characterData: true });
      });
      await page.getByLabel('Image', { exact: true }).pressSequentially(`${front.host}/team/multi:v1`, {
        delay: KEY_DELAY_MS,
      });
      await waitResolved(page, 'linux/amd64');
      const manifests = front.requests.filter((r) => r.path.includes('/manifests/'));
      const wrong = manifests.filter((r) => !/^\/v2\/team\/multi\/manifests\/(v1|sha256:[0-9a-f]{64})$/.test(r.path));
      assert.deepEqual(
        wrong.map((r) => `${r.method} ${r.path}`),
        [],
      );
      const byTag = manifests.filter((r) => r.path.endsWith('/manifests/v1'));
      assert.equal(byTag.filter((r) => r.method === 'GET').length, 1);
      assert.ok(byTag.filter((r) => r.method === 'HEAD').length <= 1);
      const seenAlerts = await page.evaluate(() => (window as unknown as { seenAlerts: string[] }).seenAlerts);
      assert.deepEqual(seenAlerts, [], 'alerts flashed while typing');
    } finally {
      await context.close();
    }
  });

  it('shows the file’s size next to Download, in the chosen layer mode', async () => {
    for (const layers of ['uncompressed', 'as-pulled'] as const) {
      server.config = { layers };
      const { context, page } = await newPage(browser);
      try {
        await page.goto(server.url);
        await typeName(page, `${registry.host}/team/text:v1`);
        await waitResolved(page);
        const estimate = page.getByTestId('file-estimate');
        await estimate.getByText(/^File about /).waitFor();
        // The gzip trailers are read after the resolve: the figure settles once they are in.
        await page.waitForTimeout(500);
        const shown = parseBytes((await estimate.textContent()) ?? '');
        const downloading = page.waitForEvent('download');
        await page.getByRole('button', { name: 'Download', exact: true }).click();
        await downloading;
        const sizeText = (await page.getByTestId('result-size').textContent()) ?? '';
        const actual = Number(/\(([\d,]+) B\)/.exec(sizeText)![1]!.replace(/,/g, ''));
        assert.ok(Math.abs(shown - actual) / actual < 0.03, `${layers}: shown ${shown}, file ${actual}`);
      } finally {
        await context.close();
      }
    }
    server.config = {};
  });

  it('on a phone, brings progress and Done into view, shows the State column, and never scrolls sideways', async () => {
    // Each layer answers after a pause, so the download lasts long enough to look at.
    front.setPlan((r) => (r.method === 'GET' && r.path.includes('/blobs/') ? fault.delay(400) : undefined));
    const { context, page } = await newPage(browser, { width: 390, height: 700 });
    try {
      await page.goto(server.url);
      await typeName(page, `${front.host}/team/layers:v1`);
      await waitResolved(page);
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const progress = page.locator('section.progress-card');
      // A small layer is in at once and then written: either state shows the State column.
      await progress.locator('tr.downloading, tr.writing').first().waitFor();
      const view = await page.evaluate(() => {
        const section = document.querySelector('section.progress-card')!.getBoundingClientRect();
        const scroller = document.querySelector('.progress-card .table-scroll')!.getBoundingClientRect();
        const states = [...document.querySelectorAll('.progress-card td.state')].map((td) => {
          const box = td.getBoundingClientRect();
          return { left: box.left, right: box.right };
        });
        return {
          top: section.top,
          innerWidth,
          scrollWidth: document.documentElement.scrollWidth,
          scroller: { left: scroller.left, right: scroller.right },
          states,
        };
      });
      assert.ok(view.top >= -1 && view.top < 700 / 2, `progress starts at ${view.top}px`);
      assert.ok(view.scrollWidth <= view.innerWidth, `page is ${view.scrollWidth}px wide`);
      for (const state of view.states)
        assert.ok(
          state.left >= view.scroller.left - 1 && state.right <= view.scroller.right + 1,
          `State cell ${JSON.stringify(state)} clipped by ${JSON.stringify(view.scroller)}`,
        );
      const done = page.getByRole('heading', { name: 'Done' });
      await done.waitFor({ timeout: 30_000 });
      const box = (await done.boundingBox())!;
      assert.ok(box.y >= 0 && box.y + box.height <= 700, `Done heading at ${box.y}px`);
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
    } finally {
      front.setPlan(answerPreflights);
      await context.close();
    }
  });

  it('says no time left until it can be told: every reading is near the real one', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeName(page, `${front.host}/team/layers:v1`);
      await waitResolved(page);
      // A slow start (the first layer answers after 3.5 s, as a far CDN or a sign-in can make it), then layers
      // come steadily: a rate counted from the click reads the start as a slow line.
      let firstLayer = true;
      front.setPlan((r) => {
        if (r.method === 'OPTIONS') return answerPreflights(r);
        if (r.method !== 'GET' || !r.path.includes('/blobs/') || r.range) return undefined;
        if (!firstLayer) return fault.delay(300);
        firstLayer = false;
        return fault.delay(3500);
      });
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const readings: { at: number; text: string }[] = [];
      const eta = page.locator('.progress-card .stats > span').nth(1).locator('.num');
      const done = page.getByRole('heading', { name: 'Done' });
      while (!(await done.isVisible())) {
        const text = (await eta.textContent().catch(() => null)) ?? '';
        if (text) readings.push({ at: performance.now(), text });
        await page.waitForTimeout(100);
      }
      const end = performance.now();
      for (const { at, text } of readings) {
        if (text === '–') continue;
        const seconds = durationSeconds(text);
        const real = (end - at) / 1000;
        assert.ok(seconds <= Math.max(3, real * 3), `said ${text} with ${real.toFixed(1)} s to go`);
      }
    } finally {
      front.setPlan(answerPreflights);
      await context.close();
    }
  });

  it('one h1, progress in a polite live region, Done announced, focus kept, "Download 1 image"', async () => {
    front.setPlan((r) =>
      r.method === 'OPTIONS' ? answerPreflights(r) : r.path.includes('/blobs/') ? fault.delay(500) : undefined,
    );
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      assert.equal(await page.locator('h1').count(), 1);
      await typeName(page, `${front.host}/team/layers:v1`);
      await waitResolved(page);
      // Add to archive, by keyboard: the field has focus again, ready for the next name.
      await page.getByRole('button', { name: 'Add to archive' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Download 1 image', exact: true }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'image');

      // Download by keyboard: focus moves to Cancel; progress is told politely, the section is not busy.
      await page.keyboard.press('Enter');
      const progress = page.locator('section.progress-card');
      await progress.waitFor();
      await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Cancel');
      assert.equal(await progress.getAttribute('aria-busy'), null);
      await progress.locator('[aria-live="polite"]', { hasText: /% downloaded$/ }).waitFor();
      await page.keyboard.press('Enter');
      await progress.waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.id === 'download-button');

      // Again, to the end: Done is announced and has focus.
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 30_000 });
      await page
        .getByRole('status')
        .filter({ hasText: /^Done: .+ is saved\.$/ })
        .waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'result-title');
    } finally {
      front.setPlan(answerPreflights);
      await context.close();
    }
  });
});

/** "1 min 5 s", "42 s", "2 h 3 min" → seconds. */
function durationSeconds(text: string): number {
  let seconds = 0;
  for (const [, value, unit] of text.matchAll(/(\d+)\s*(h|min|s)\b/g))
    seconds += Number(value) * (unit === 'h' ? 3600 : unit === 'min' ? 60 : 1);
  assert.ok(/\d/.test(text), `no duration in ${JSON.stringify(text)}`);
  return seconds;
}
