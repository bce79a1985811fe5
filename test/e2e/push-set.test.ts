/**
 * Push a set, in real Chromium: an archive Skiff pulled holding a multi-platform index podman wrote (three
 * platforms, attestation manifests) and a single image. "Push all to" typed at a person's pace fills every
 * target; two rows to one target are refused before anything moves, named on both rows, nothing tagged;
 * once fixed, one push with progress per unit, a result table, the index's digest at the registry the
 * archive's own (skopeo inspect --raw), "Copy as list" on the clipboard; the same push again skipped.
 *
 * SKIFF_SCREENSHOTS=docs/screenshots writes push-set-1280.png there; SKIFF_LOOK=DIR writes the view at 1280
 * and 390 wide, in English and Chinese, for a person to look at.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { en } from '../../src/app/i18n/en.ts';
import { zh } from '../../src/app/i18n/zh.ts';
import { type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { type PodmanIndex, pushPodmanIndex } from '../support/podman-index.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo } from '../support/skopeo.ts';
import { ROOT, buildApp, chooseFile, launchBrowser, newPage, serveStatic, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const LOOK = process.env.SKIFF_LOOK ? resolvePath(process.env.SKIFF_LOOK) : undefined;

let source: Registry;
let target: Registry;
let index: PodmanIndex;
let app: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
const scratch = scratchDir('e2e-push-set');
const setTar = join(scratch.path, 'release.tar');

/** The manifest or index the registry serves under `reference`, as skopeo reads it: its digest. */
async function servedDigest(reference: string): Promise<string> {
  const { stdout } = await skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${reference}`]);
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

async function catalog(registry: Registry): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/_catalog`);
  return ((await response.json()) as { repositories: string[] }).repositories;
}

before(async () => {
  [source, target, build, browser] = await Promise.all([
    startRegistry(),
    startRegistry({ cors: 'push' }),
    buildApp(),
    launchBrowser(),
  ]);
  index = await pushPodmanIndex(source, 'lab/multi', '1');
  app = await pushImage(source, 'lab/app', '1', { format: 'docker', layers: smallLayers() });
  await pullToFile([index.reference, app.reference], setTar, { platforms: 'all' });
  server = await serveStatic(build.dir);
  server.config = {};
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), source?.stop(), target?.stop()]);
  build?.remove();
  scratch.remove();
});

const units = (page: Page) => page.getByTestId('push-unit');
const targetField = (page: Page, i: number) => units(page).nth(i).getByLabel(en.push.target);

describe('Push a set', () => {
  it('fills every target under one prefix, refuses one target twice, pushes the set keeping digests, lists it, skips it the second time', async () => {
    const { context, page, problems } = await newPage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    try {
      await page.goto(`${server.url}#push`);
      await chooseFile(page, setTar);
      await page.getByTestId('push-holds').waitFor();
      // One row for the index with its three platforms, one for the image.
      assert.equal(await units(page).count(), 2);
      const indexRow = units(page).nth(0);
      await indexRow.getByText(en.push.indexKind, { exact: false }).waitFor();
      assert.match(await indexRow.innerText(), /3 platforms: linux\/amd64, linux\/arm64, linux\/arm\/v7/);
      // Both keep their digests: the archive holds their manifests as the registry served them.
      assert.match(await indexRow.getByTestId('push-digest-note').innerText(), /The digest stays sha256:/);
      assert.match(await units(page).nth(1).getByTestId('push-digest-note').innerText(), /The digest stays/);

      const prefix = `${target.host}/mirror`;
      await page.getByLabel(en.push.pushAllTo).pressSequentially(prefix, { delay: 40 });
      const expected = [`${target.host}/mirror/lab/multi:1`, `${target.host}/mirror/lab/app:1`];
      assert.deepEqual([await targetField(page, 0).inputValue(), await targetField(page, 1).inputValue()], expected);

      // Two rows to one target: named on both rows, Push refused, nothing in the registry.
      await targetField(page, 1).fill(expected[0]!);
      const hints = units(page).getByTestId('push-target-hint');
      assert.match(await hints.nth(0).innerText(), /same target as row 2 \(.*lab\/app:1\)/);
      assert.match(await hints.nth(1).innerText(), /same target as row 1 \(.*lab\/multi:1\)/);
      await page.getByTestId('push-refused').waitFor();
      const pushButton = page.getByRole('button', { name: en.push.start, exact: true }).last();
      assert.equal(await pushButton.isDisabled(), true);
      assert.deepEqual(await catalog(target), [], 'nothing pushed');
      if (LOOK) await page.screenshot({ path: join(LOOK, 'push-set-refused-1280-en.png'), fullPage: true });

      // Fixed, pushed once.
      await targetField(page, 1).fill(expected[1]!);
      assert.equal(await page.getByTestId('push-refused').count(), 0);
      // Every state a unit's row shows while the push runs.
      await page.evaluate(() => {
        const seen = new Set<string>();
        (globalThis as unknown as { unitStates: Set<string> }).unitStates = seen;
        new MutationObserver(() => {
          for (const el of document.querySelectorAll('[data-testid="unit-state"]')) seen.add(el.textContent!.trim());
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await pushButton.click();
      await page.getByRole('heading', { name: en.push.pushed }).waitFor({ timeout: 120_000 });
      const seen = await page.evaluate(() => [...(globalThis as unknown as { unitStates: Set<string> }).unitStates]);
      assert.ok(seen.includes(en.push.unitState.pushed!), seen.join());
      assert.ok(
        seen.some((s) => s !== en.push.unitState.pushed),
        `a state before pushed: ${seen.join()}`,
      );
      for (const i of [0, 1]) {
        const row = units(page).nth(i);
        assert.equal(await row.getAttribute('data-state'), 'pushed');
        const [sent, total] = (await row.locator('.num').innerText()).split(' / ');
        assert.equal(sent, total, 'every byte of the unit accounted for');
      }

      const result = page.getByTestId('push-result');
      const outcomes = () => result.getByTestId('pushed-outcome').allInnerTexts();
      assert.equal(await result.locator('tbody tr').count(), 2);
      assert.deepEqual(await result.getByTestId('pushed-target').allInnerTexts(), expected);
      const digests = await result.getByTestId('pushed-digest').allInnerTexts();
      assert.equal(digests[0], index.digest, "the index's digest is the archive's");
      assert.equal(digests[1], app.manifestDigest);
      assert.deepEqual(await outcomes(), [
        `${en.push.unitState.pushed} · ${en.push.digestKept}`,
        `${en.push.unitState.pushed} · ${en.push.digestKept}`,
      ]);
      // Read back: the registry serves the index byte for byte, and the image's manifest.
      assert.equal(await servedDigest(expected[0]!), index.digest);
      assert.equal(await servedDigest(expected[1]!), app.manifestDigest);

      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'push-set-1280.png'), fullPage: true });
      }
      await page.getByRole('button', { name: en.push.copyList }).click();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, `${expected[0]}@${index.digest}\n${expected[1]}@${app.manifestDigest}\n`);

      // The same again: the registry holds both under their tags.
      await pushButton.click();
      await result.locator('tbody tr[data-state="skipped"]').nth(1).waitFor({ timeout: 60_000 });
      assert.deepEqual(await result.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.state)), [
        'skipped',
        'skipped',
      ]);
      assert.equal((await outcomes())[0], `${en.push.unitState.skipped} · ${en.push.digestKept}`);
      assert.deepEqual(
        problems.errors.filter((e) => !/status of 404/.test(e)),
        [],
      );
      if (LOOK)
        for (const lang of ['en', 'zh']) {
          await page.locator('#language').selectOption(lang);
          for (const width of [1280, 390]) {
            await page.setViewportSize({ width, height: 900 });
            await page.screenshot({ path: join(LOOK, `push-set-done-${width}-${lang}.png`), fullPage: true });
          }
        }
      // The prefix is remembered for the next file.
      await page.reload();
      await page.locator('#language').selectOption('en');
      await chooseFile(page, setTar);
      assert.equal(await page.getByLabel(en.push.pushAllTo).inputValue(), prefix);
      assert.equal(await targetField(page, 1).inputValue(), expected[1]);
    } finally {
      await context.close();
    }
  });

  for (const [lang, m, width] of [
    ['en-US', en, 390],
    ['zh-CN', zh, 1280],
    ['zh-CN', zh, 390],
  ] as const) {
    it(`reads in ${lang} at ${width} wide: every row's target, the refusal and the digest note in the page's words`, async () => {
      const { context, page, problems } = await newPage(browser, { locale: lang, width, height: 900 });
      try {
        await page.goto(`${server.url}#push`);
        await chooseFile(page, setTar, m.push.choose);
        await page.getByLabel(m.push.pushAllTo).fill(`${target.host}/look`);
        const second = units(page).nth(1).getByLabel(m.push.target);
        await second.fill(await units(page).nth(0).getByLabel(m.push.target).inputValue());
        await page.getByTestId('push-refused').getByText(m.push.refusedSame).waitFor();
        assert.match(
          await units(page).nth(1).getByTestId('push-target-hint').innerText(),
          new RegExp(m.push.row(1, '.*').replace(/[()（）]/g, '.')),
        );
        // Nothing wider than the screen.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        assert.ok(overflow <= 0, `${overflow}px wider than the screen`);
        if (LOOK) await page.screenshot({ path: join(LOOK, `push-set-${width}-${lang}.png`), fullPage: true });
        assert.deepEqual(problems.errors, []);
      } finally {
        await context.close();
      }
    });
  }
});
