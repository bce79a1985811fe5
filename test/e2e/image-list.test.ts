/**
 * The list on the Pull page, in real Chromium against a real registry: a pasted list with a typo and a
 * repeat becomes rows that resolve on their own, Download refuses while a row has a problem (naming it), the
 * typo is fixed in place, one image gets all its platforms, and one Download writes them all into one tar
 * that `docker load` reads and whose index is the registry's own. Export list and Open list… round-trip.
 *
 * SKIFF_SCREENSHOTS=docs/screenshots writes list-1280.png; SKIFF_LOOK=dir saves the list in en and zh at 1280
 * and 390 wide there, to look at.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { answerPreflights, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { type Fixtures, pushFixtures, pushImage, smallLayers } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo } from '../support/skopeo.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const LOOK = process.env.SKIFF_LOOK ? resolvePath(ROOT, process.env.SKIFF_LOOK) : undefined;
/** A person types a key every few tenths of a second; pasting is one action. */
const KEY_DELAY_MS = 90;
const USER = 'alice';
const PASSWORD = 'correct horse';

let registry: Registry;
let privateRegistry: Registry;
/** In front of the private registry: answers the browser's preflights, which the registry does not. */
let privateFront: FaultProxy;
let fixtures: Fixtures;
let dockerd: Dockerd;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
const scratch = scratchDir('e2e-list');

before(async () => {
  [registry, privateRegistry, dockerd, build, browser] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry({ cors: true, auth: { htpasswd: { username: USER, password: PASSWORD } } }),
    startDockerd(),
    buildApp(),
    launchBrowser(),
  ]);
  [fixtures] = await Promise.all([
    pushFixtures(registry),
    pushImage(privateRegistry, 'team/app', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
  ]);
  privateFront = await startFaultProxy(privateRegistry.url, answerPreflights);
  server = await serveStatic(build.dir);
  server.config = {};
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), privateFront?.stop(), registry?.stop(), privateRegistry?.stop(), dockerd?.stop()]);
  build?.remove();
  scratch.remove();
});

/** Pastes `text` into the focused field as the browser does on Ctrl+V: a paste event carrying the text. */
async function paste(page: Page, text: string): Promise<void> {
  await page.locator('#image').evaluate((field, value) => {
    const data = new DataTransfer();
    data.setData('text/plain', value);
    field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

const rows = (page: Page) => page.locator('#queue-title').locator('xpath=../..').locator('ul.queue > li');
const row = (page: Page, name: string) => rows(page).filter({ hasText: name });

async function downloadTo(page: Page, click: () => Promise<void>, name: string): Promise<string> {
  const downloading = page.waitForEvent('download');
  await click();
  const download = await downloading;
  const path = join(scratch.path, name);
  await download.saveAs(path);
  assert.equal(await download.failure(), null);
  return path;
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('the list', () => {
  it('takes a pasted list, refuses a typo by name, and downloads every image once, all platforms kept', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(server.url);
      const host = registry.host;
      const field = page.getByLabel('Image', { exact: true });
      await field.focus();
      await paste(
        page,
        [
          '# release 1.4',
          `${host}/small/docker:v1`,
          `${host}/small/oci:v1, ${host}/multi/app:v1`,
          '',
          `${host}/shared/b:v11   # typo`,
          `${host}/small/docker:v1`,
        ].join('\n'),
      );
      // Four rows; the repeat said once; the field free and focused for the next name.
      await page
        .getByRole('status')
        .filter({ hasText: `${host}/small/docker:v1 was listed twice; taken once.` })
        .waitFor();
      assert.equal(await rows(page).count(), 4);
      assert.equal(await field.inputValue(), '');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'image');

      // Each row resolves on its own; the typo's row says what is wrong, in plain words.
      await page.locator('ul.queue > li[data-state="resolved"]').nth(2).waitFor();
      await row(page, 'shared/b:v11').filter({ hasText: 'The registry has no such image' }).waitFor();
      assert.match((await row(page, `${host}/multi/app:v1`).textContent()) ?? '', /linux\/amd64 \(1 of 3\)/);

      // Download refuses, naming the row, and puts the cursor in its name.
      await page.getByRole('button', { name: 'Download 4 images' }).click();
      const refusal = page.getByRole('alert').filter({ hasText: 'Nothing was downloaded' });
      await refusal.waitFor();
      assert.match((await refusal.textContent()) ?? '', new RegExp(`${host}/shared/b:v11 needs fixing first`));
      const editor = page.getByLabel('Image 4 of the list');
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Image 4 of the list');
      assert.equal(await editor.inputValue(), `${host}/shared/b:v11`);
      await glance(page, 'refused');

      // Fixed in place, as a person types: the row looks the name up again and the refusal goes.
      await page.keyboard.press('End');
      await page.keyboard.press('Backspace', { delay: KEY_DELAY_MS });
      await page.keyboard.press('Enter', { delay: KEY_DELAY_MS });
      await row(page, `${host}/shared/b:v1`).and(page.locator('[data-state="resolved"]')).waitFor();
      await refusal.waitFor({ state: 'detached' });

      // All platforms of the multi-platform image: picked in the field and added, it merges into its row.
      await field.pressSequentially(`${host}/multi/app:v1`, { delay: 30 });
      await waitResolved(page, 'linux/amd64');
      const platform = page.getByLabel('Platform');
      await platform.selectOption('several');
      await page.getByRole('checkbox', { name: 'linux/arm64' }).check();
      await page
        .getByTestId('platform-note')
        .filter({ hasText: 'new index of just these platforms: its digest differs from the registry’s' })
        .waitFor();
      await glance(page, 'several');
      await platform.selectOption('all');
      const served = (await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/multi/app:v1`])).stdout;
      const registryDigest = sha256(served);
      assert.equal(registryDigest, fixtures.multi.app.digest);
      await page
        .getByTestId('platform-note')
        .filter({ hasText: `registry’s own index goes in, same digest (${registryDigest.slice(0, 19)}…)` })
        .waitFor();
      await glance(page, 'all');
      await page.getByRole('button', { name: 'Add to archive' }).click();
      await page.getByRole('status').filter({ hasText: 'the platforms were added to its row' }).waitFor();
      assert.equal(await rows(page).count(), 4);
      await row(page, `${host}/multi/app:v1`)
        .filter({ hasText: 'all 3 platforms: linux/amd64, linux/arm64, linux/arm/v7' })
        .waitFor();
      await shot(page, 'list-1280');
      if (LOOK) await look(page);

      // Export list: the list as text, as Open list… and `npm run pull -- -f` read it.
      const exported = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Export list' }).click(),
        'images.txt',
      );
      assert.equal(
        readFileSync(exported, 'utf8'),
        [
          `${host}/small/docker:v1`,
          `${host}/small/oci:v1`,
          `${host}/multi/app:v1 --platform all`,
          `${host}/shared/b:v1`,
          '',
        ].join('\n'),
      );

      // One Download, one tar holding every image once.
      const tar = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download 4 images' }).click(),
        'list.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const loaded = await page.locator('section.result ul.images li').allTextContents();
      assert.equal(loaded.length, 4, loaded.join('\n'));
      assert.ok(
        loaded.some((l) => l.includes('linux/amd64, linux/arm64, linux/arm/v7') && l.includes(registryDigest)),
        loaded.join('\n'),
      );

      const manifest = (await readJsonFromTar(tar, 'manifest.json')) as { RepoTags: string[] }[];
      const tags = manifest.flatMap((m) => m.RepoTags).sort();
      assert.deepEqual(
        tags,
        [`${host}/multi/app:v1`, `${host}/shared/b:v1`, `${host}/small/docker:v1`, `${host}/small/oci:v1`].sort(),
      );
      const index = (await readJsonFromTar(tar, 'index.json')) as {
        manifests: { digest: string; annotations?: Record<string, string> }[];
      };
      const multi = index.manifests.find((m) => m.annotations?.['io.containerd.image.name'] === `${host}/multi/app:v1`);
      assert.equal(multi?.digest, registryDigest, 'the index in the file is the registry’s, same digest');

      await dockerd.load(tar);
      assert.equal((await dockerd.inspect(`${host}/small/docker:v1`)).Id, fixtures.small.docker.configDigest);
      assert.equal((await dockerd.inspect(`${host}/shared/b:v1`)).Id, fixtures.shared.b.configDigest);
      assert.equal(
        (await dockerd.inspect(`${host}/multi/app:v1`)).Id,
        fixtures.multi.app.byPlatform['linux/amd64']!.configDigest,
        'docker load tags linux/amd64',
      );
      // The typo's look-up is a 404 the browser logs; nothing else went wrong on the page.
      assert.deepEqual(
        problems.errors.filter((e) => !/status of 404/.test(e)),
        [],
      );
    } catch (error) {
      if (LOOK) await page.screenshot({ path: join(LOOK, 'failed.png'), fullPage: true });
      throw error;
    } finally {
      await context.close();
    }
  });

  it('reads a list from a file with Open list…, takes typed names on Enter, and writes a kit of them', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      const host = registry.host;
      const file = join(scratch.path, 'release.txt');
      writeFileSync(file, `# from the chart\n${host}/small/oci:v1\n${host}/multi/app:v1 --platform all\n`);
      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Open list…' }).click();
      await (await chooser).setFiles(file);
      await page.getByRole('status').filter({ hasText: 'release.txt: 2 images added.' }).waitFor();
      await row(page, `${host}/multi/app:v1`)
        .filter({ hasText: 'all 3 platforms' })
        .and(page.locator('[data-state="resolved"]'))
        .waitFor();
      await row(page, `${host}/small/oci:v1`).and(page.locator('[data-state="resolved"]')).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'image');

      // Names typed with spaces between them: Enter puts them on the list.
      const field = page.getByLabel('Image', { exact: true });
      await field.pressSequentially(`${host}/small/docker:v1 ${host}/shared/a:v1`, { delay: 20 });
      await page.getByText('Press Enter to put these names on the list.').waitFor();
      await field.press('Enter');
      await page.locator('ul.queue > li[data-state="resolved"]').nth(3).waitFor();
      assert.equal(await field.inputValue(), '');

      // One .zip kit: a tar per row, the all-platforms one with its index, and the list it was made from.
      await page.getByLabel('.zip offline kit').check();
      const zip = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download 4 images' }).click(),
        'kit.zip',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const kit = join(scratch.path, 'kit');
      await runCommand('unzip', ['-q', zip, '-d', kit]);
      assert.equal(
        readFileSync(join(kit, 'images.txt'), 'utf8')
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .sort()
          .join('\n'),
        [
          `${host}/multi/app:v1 --platform all`,
          `${host}/shared/a:v1 --platform linux/amd64`,
          `${host}/small/docker:v1 --platform linux/amd64`,
          `${host}/small/oci:v1 --platform linux/amd64`,
        ].join('\n'),
      );
      const port = host.split(':')[1];
      const multi = await readJsonFromTar(join(kit, `127.0.0.1_${port}_multi_app_v1.tar`), 'index.json');
      assert.equal(multi.manifests[0].digest, fixtures.multi.app.digest);

      // Removing a row by keyboard: focus goes on to the next row's Remove.
      await page.getByRole('button', { name: `Remove ${host}/small/oci:v1` }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (name) => document.activeElement?.getAttribute('aria-label') === name,
        `Remove ${host}/multi/app:v1`,
      );
      assert.equal(await rows(page).count(), 3);
    } catch (error) {
      if (LOOK) await page.screenshot({ path: join(LOOK, 'failed.png'), fullPage: true });
      throw error;
    } finally {
      await context.close();
    }
  });

  it('downloads all platforms of the one image in the field, with the registry’s index', async () => {
    const { context, page } = await newPage(browser);
    try {
      const image = `${registry.host}/multi/app:v1`;
      // A link may ask for every platform too.
      await page.goto(`${server.url}?image=${encodeURIComponent(image)}&platform=all`);
      await waitResolved(page, 'linux/amd64');
      assert.equal(await page.getByLabel('Platform').inputValue(), 'all');
      const tar = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'all.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const loaded = await page.locator('section.result ul.images li').allTextContents();
      assert.equal(loaded.length, 1, loaded.join('\n'));
      assert.match(loaded[0]!, /linux\/amd64, linux\/arm64, linux\/arm\/v7/);
      const index = await readJsonFromTar(tar, 'index.json');
      assert.equal(index.manifests[0].digest, fixtures.multi.app.digest);
      assert.equal(
        await page.getByTestId('result-file').textContent(),
        `127.0.0.1_${registry.host.split(':')[1]}_multi_app_v1.tar`,
      );
    } finally {
      await context.close();
    }
  });

  it('asks for a sign-in on the row a registry refused, and looks it up again once signed in', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).focus();
      const secured = `${privateFront.host}/team/app:v1`;
      await paste(page, `${registry.host}/small/oci:v1\n${secured}`);
      await row(page, secured).filter({ hasText: 'needs you to sign in' }).waitFor();
      // The sign-in opens for the refused row's registry.
      await page.getByText(`Sign in to ${privateFront.host}`).first().waitFor();
      await page.getByLabel('Username').fill(USER);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await row(page, secured).and(page.locator('[data-state="resolved"]')).waitFor();
      const tar = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download 2 images' }).click(),
        'signed.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      await dockerd.load(tar);
      await dockerd.inspect(secured);
    } finally {
      await context.close();
    }
  });
});

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** One moment of the page, to look at (SKIFF_LOOK). */
async function glance(page: Page, name: string): Promise<void> {
  if (LOOK) await page.screenshot({ path: join(LOOK, `${name}.png`), fullPage: true });
}

/** The page as it is now, in en and zh, 1280 and 390 wide (SKIFF_LOOK). */
async function look(page: Page): Promise<void> {
  mkdirSync(LOOK!, { recursive: true });
  for (const lang of ['en', 'zh']) {
    await page.locator('#language').selectOption(lang);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(LOOK!, `list-${lang}-${width}.png`), fullPage: true });
    }
  }
  await page.locator('#language').selectOption('en');
  await page.setViewportSize({ width: 1280, height: 900 });
}
