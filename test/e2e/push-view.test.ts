/**
 * The Push view itself in real Chromium, as a person meets it: a push refused for credentials told in the
 * page's language (English, 简体中文) with the credentials section opened and named; the view linked as
 * `#push` with Back and Forward; a file button of a finger's size that the keyboard can press; the footer
 * and the result in Push's words; and the push done on the page itself where no worker can start.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { en } from '../../src/app/i18n/en.ts';
import { zh } from '../../src/app/i18n/zh.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { type RunningServer, startServer } from '../../src/relay/serve.ts';
import { pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { buildApp, chooseFile, launchBrowser, newPage, serveStatic, type StaticServer } from './harness.ts';

let source: Registry;
let target: Registry;
/** A registry with a password and no CORS headers, as Harbor is: reached through `npm start`'s relay. */
let harborLike: Registry;
let relayServer: RunningServer;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
const scratch = scratchDir('e2e-push-view');
const smallTar = join(scratch.path, 'small.tar');

before(async () => {
  [source, target, harborLike, build, browser] = await Promise.all([
    startRegistry(),
    startRegistry({ cors: 'push' }),
    startRegistry({ auth: { htpasswd: { username: 'alice', password: 'secret' } } }),
    buildApp(),
    launchBrowser(),
  ]);
  const small = await pushImage(source, 'small/app', '1', {
    format: 'docker',
    layers: [{ compression: 'none', files: [{ path: 'hello.txt', content: 'hello\n'.repeat(5000) }] }],
  });
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

describe('Push view, as a person meets it', () => {
  for (const [lang, m] of [
    ['en-US', en],
    ['zh-CN', zh],
  ] as const) {
    it(`a push refused for credentials says so in the page's language (${lang}) and opens the credentials section`, async () => {
      const { context, page } = await newPage(browser, { locale: lang });
      try {
        await page.goto(`${relayServer.url}/#push`);
        await chooseFile(page, smallTar, m.push.choose);
        await page.getByLabel(m.push.target, { exact: true }).fill(`${harborLike.host}/team/nocreds:1`);
        await page.getByRole('button', { name: m.push.start, exact: true }).last().click();
        const alert = page.getByRole('alert').filter({ hasText: m.push.failed });
        await alert.getByText(m.advice.signIn).waitFor({ timeout: 60_000 });
        // Only the translated advice is in view; the engine's English is under Details.
        const visible = await alert.evaluate((el) => (el as HTMLElement).innerText);
        assert.doesNotMatch(visible, /needs credentials|unauthorized/i);
        await alert.getByText(m.technical).click();
        await alert.getByText(/unauthorized/).waitFor();
        // The credentials section is open, named for the registry, its fields ready to type in.
        const section = page.locator('details.credentials');
        assert.equal(await section.getAttribute('open'), '');
        await section.getByText(m.credentialsFor(harborLike.host)).waitFor();
        assert.ok(await page.getByLabel(m.username).isVisible());
      } finally {
        await context.close();
      }
    });
  }

  it('is linked as #push, with Back and Forward between the views, and a file button a thumb can press', async () => {
    const { context, page } = await newPage(browser, { width: 390, height: 844 });
    try {
      await page.goto(`${server.url}#push`);
      await page.getByRole('heading', { name: en.push.title }).waitFor();
      // The footer tells what Push does with the file.
      const footer = page.getByTestId('request-path');
      assert.match(await footer.innerText(), /read from your disk/);
      assert.doesNotMatch(await footer.innerText(), /writes images to your disk|written to your disk/);
      // The file control: labelled for both kinds it takes, a button of a finger's size, usable by keyboard.
      await page.getByText(en.push.file, { exact: true }).waitFor();
      const button = page.getByRole('button', { name: en.push.choose, exact: true });
      const box = (await button.boundingBox())!;
      assert.ok(box.height >= 40 && box.width >= 100, `button ${box.width}×${box.height}`);
      const chooser = page.waitForEvent('filechooser', { timeout: 5000 });
      await button.focus();
      await page.keyboard.press('Enter');
      await (await chooser).setFiles(smallTar);
      await page.getByTestId('push-holds').waitFor();
      // Pull, then Back to Push and Forward to Pull again, as the address bar records them.
      await page.getByRole('button', { name: 'Pull', exact: true }).click();
      await page.getByLabel('Image', { exact: true }).waitFor();
      assert.doesNotMatch(page.url(), /#push/);
      assert.match(await footer.innerText(), /writes images to your disk/);
      await page.goBack();
      await page.getByRole('heading', { name: en.push.title }).waitFor();
      assert.match(page.url(), /#push$/);
      await page.goForward();
      await page.getByLabel('Image', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      assert.match(page.url(), /#push$/);
      // The file chosen is still there; pushed, the result says where it went.
      const reference = `${target.host}/linked/small:1`;
      await page.getByLabel('Push to').fill(reference);
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 60_000 });
      await page.locator('th', { hasText: /^Pushed to$/ }).waitFor();
      assert.equal(await page.locator('th', { hasText: /^Push to$/ }).count(), 0);
    } finally {
      await context.close();
    }
  });

  it('pushes on the page itself where no worker can start, with the same result', async () => {
    const { context, page } = await newPage(browser);
    try {
      // An old browser, or a host whose CSP forbids workers: the engine's work falls back to the page.
      await page.addInitScript(() => Reflect.deleteProperty(globalThis, 'Worker'));
      await page.goto(`${server.url}#push`);
      await chooseFile(page, smallTar);
      const reference = `${target.host}/inpage/small:1`;
      await page.getByLabel('Push to').fill(reference);
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 60_000 });
      assert.equal(page.workers().length, 0, 'no worker ran');
      assert.equal((await page.getByTestId('pushed-target').textContent())?.trim(), reference);
    } finally {
      await context.close();
    }
  });
});
