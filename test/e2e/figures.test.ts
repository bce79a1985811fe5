/**
 * Figures that agree, words that fit (issue 20, items 10, 11, 13, 14, 15), in real Chromium against a real
 * registry behind a throttled link: the progress table read at several moments, the size estimate held to
 * the saved file, the list's words for a kit, the layout measured at 390 px and 1280 px, and 简体中文 text.
 *
 * SKIFF_LOOK=some/dir writes screenshots of what it measured there, to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { formatBytes } from '../../src/app/lib/format.ts';
import { startThrottleProxy, type ThrottleProxy } from '../bench/throttle-proxy.ts';
import { type LayerSpec, prose, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const LOOK = process.env.SKIFF_LOOK ? resolvePath(ROOT, process.env.SKIFF_LOOK) : undefined;
const LABEL = 'org.example.label.with-a-rather-long-name';

let registry: Registry;
let slow: ThrottleProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;
const scratch = scratchDir('figures');

/** Layers fetched side by side at a shared rate: zeros and prose (unpacked, they outgrow the download), two of noise. */
function bigLayers(): LayerSpec[] {
  return [
    // Zeros past the engine's 64 MiB look-ahead: written while it arrives, and far bigger unpacked than served.
    { compression: 'gzip', files: [{ path: 'c/zeros.bin', content: { zeros: 72_000_000 } }] },
    { compression: 'gzip', files: [{ path: 'c/prose.txt', content: prose(1_000_000, 'figures') }] },
    { compression: 'gzip', level: 1, files: [{ path: 'a/noise.bin', content: { noise: 2_400_000 } }] },
    { compression: 'gzip', level: 1, files: [{ path: 'b/noise.bin', content: { noise: 900_000 } }] },
  ];
}

async function shot(page: Page, dir: string | undefined, name: string): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** "12.3 MB" → bytes; "1 min 5 s" / "3 s" → seconds (as formatBytes and formatDuration write them). */
function bytesOf(text: string): number {
  const match = /([\d.]+)\s*(B|kB|MB|GB)/.exec(text);
  assert.ok(match, `no size in ${JSON.stringify(text)}`);
  return Number(match[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B']!;
}
function secondsOf(text: string): number | undefined {
  const match = /^(?:(\d+) min )?(\d+) s$/.exec(text.trim());
  return match ? Number(match[1] ?? 0) * 60 + Number(match[2]) : undefined;
}

/** Adds names to the list the way a person does: type, wait for the look-up, press Add. */
async function addToList(page: Page, names: string[], button = 'Add to archive'): Promise<void> {
  for (const name of names) {
    await page.getByLabel('Image', { exact: true }).fill(name);
    await waitResolved(page);
    await page.getByRole('button', { name: button }).click();
    await page.locator('#queue-title').locator('xpath=../..').getByRole('listitem').filter({ hasText: name }).waitFor();
  }
}

async function download(page: Page, button: string, name: string): Promise<number> {
  const downloading = page.waitForEvent('download', { timeout: 120_000 });
  await page.getByRole('button', { name: button, exact: true }).click();
  const file = await downloading;
  const path = join(scratch.path, name);
  await file.saveAs(path);
  assert.equal(await file.failure(), null);
  return statSync(path).size;
}

before(async () => {
  const started = performance.now();
  [registry, build, browser] = await Promise.all([startRegistry({ cors: true }), buildApp(), launchBrowser()]);
  await Promise.all([
    pushImage(registry, 'team/big', 'v1', { format: 'oci', layers: bigLayers() }),
    pushImage(registry, 'team/one', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(registry, 'team/two', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
    pushImage(registry, 'team/labelled', 'v1', {
      format: 'oci',
      layers: smallLayers('gzip'),
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo hello'],
        ExposedPorts: { '8080/tcp': {} },
        Labels: { [LABEL]: 'a value', 'org.opencontainers.image.source': 'https://example.com/team/labelled' },
      },
    }),
  ]);
  // A far registry: 40 ms away, 1 MB/s shared by every connection, 450 kB/s for any one.
  slow = await startThrottleProxy(registry.url, { latencyMs: 40, connectionRate: 450_000, totalRate: 1_000_000 });
  server = await serveStatic(build.dir);
  server.config = {};
  console.log(`# set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), slow?.stop(), registry?.stop()]);
  build?.remove();
  scratch.remove();
});

interface Moment {
  at: number;
  /** "1.2 MB / 4.0 MB" */
  total: { line: string; speed: string; eta: string; written: string | undefined };
  rows: { state: string; bytes: string; speed: string; eta: string }[];
}

/** Reads the progress table and the total as a person reads them. */
async function readProgress(page: Page): Promise<Moment | undefined> {
  // A string, so that no helper the test's compiler adds (esbuild's __name) has to exist in the page.
  return page.evaluate(`(() => {
    const card = document.querySelector('.progress-card');
    const stats = card && card.querySelectorAll('.stats > span');
    if (!card || !stats || stats.length < 2) return undefined;
    const text = (el) => (el ? el.textContent.trim() : '');
    const written = card.querySelector('[data-testid="written"]');
    return {
      at: performance.now(),
      total: {
        line: text(card.querySelector('.total-line .num')),
        speed: text(stats[0].querySelector('.num')),
        eta: text(stats[1].querySelector('.num')),
        written: written ? text(written) : undefined,
      },
      rows: [...card.querySelectorAll('tbody tr')].map((tr) => {
        const cells = [...tr.querySelectorAll('td')].map(text);
        return { bytes: cells[1], state: cells[2], speed: cells[4], eta: cells[5] };
      }),
    };
  })()`);
}

describe('figures that agree', () => {
  it('shows rows and a total that agree while a throttled pull runs (item 10)', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).fill(`${slow.host}/team/big:v1`);
      await waitResolved(page);
      const downloading = page.waitForEvent('download', { timeout: 120_000 });
      downloading.catch(() => {}); // a failure below is the one to report
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      await page.locator('.progress-card').waitFor();
      const moments: Moment[] = [];
      let shotTaken = false;
      while (await page.locator('.progress-card').count()) {
        const moment = await readProgress(page);
        if (moment) moments.push(moment);
        if (!shotTaken && moment?.rows.some((r) => secondsOf(r.eta) !== undefined)) {
          await shot(page, LOOK, 'figures-progress-1280');
          shotTaken = true;
        }
        await page.waitForTimeout(250);
      }
      const file = await downloading;
      assert.equal(await file.failure(), null);
      assert.ok(moments.length >= 8, `read the progress ${moments.length} times`);
      let rowTimes = 0;
      for (const [n, moment] of moments.entries()) {
        const where = `at reading ${n}: ${JSON.stringify(moment)}`;
        const total = secondsOf(moment.total.eta);
        for (const row of moment.rows) {
          const eta = secondsOf(row.eta);
          // A layer never has more time left than the whole download.
          if (eta !== undefined) {
            rowTimes++;
            assert.ok(total !== undefined && eta <= total, `row ${row.eta} > total ${moment.total.eta} ${where}`);
          }
          if (row.state === 'downloading') {
            // Downloading means bytes are still to come: never "X / X", never "0 s".
            const [got, of] = row.bytes.split(' / ').map(bytesOf);
            assert.ok(got! < of!, `downloading with all bytes in ${where}`);
            assert.notEqual(row.eta, '0 s', where);
          }
          assert.notEqual(row.speed, '0 B/s', where);
        }
        assert.notEqual(moment.total.speed, '0 B/s', where);
        // What "written" counts is said: layers unpacked make the file outgrow the download.
        if (moment.total.written) {
          assert.match(moment.total.written, /written to the file \(layers unpacked\)$/, where);
          assert.ok(bytesOf(moment.total.written) >= 64_000, `a written figure of the opening bytes only ${where}`);
        }
      }
      assert.ok(rowTimes > 0, 'rows told their time left at some moment');
      assert.ok(
        moments.some((m) => m.total.written && bytesOf(m.total.written) > bytesOf(m.total.line.split(' / ')[0]!)),
        'the unpacked file outgrew the download at some moment, and the words said why',
      );
      assert.deepEqual(problems.errors, []);
    } finally {
      await context.close();
    }
  });

  it('estimates the file of one and of three images as the size it then has (item 11), and names a kit’s list (item 13)', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      const estimate = page.getByTestId('file-estimate');
      const names = ['team/one:v1', 'team/two:v1', 'team/labelled:v1'].map((n) => `${registry.host}/${n}`);
      // One image, as a tar: as shown before the press, to the rounding the page shows.
      await page.getByLabel('Image', { exact: true }).fill(names[0]!);
      await waitResolved(page);
      const one = ((await estimate.textContent()) ?? '').trim();
      const oneSize = await download(page, 'Download', 'one.tar');
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(one, `File about ${formatBytes(oneSize)}`);

      // Three images, as a tar.
      await page.getByLabel('Image', { exact: true }).fill('');
      await addToList(page, names);
      await page.getByRole('heading', { name: /^Archive \(3\)/ }).waitFor();
      await page.getByText('File about').waitFor();
      const three = ((await estimate.textContent()) ?? '').trim();
      const threeSize = await download(page, 'Download 3 images', 'three.tar');
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(three, `File about ${formatBytes(threeSize)}`);

      // The same three as an offline kit: the list says so, not "stored once".
      await page.getByLabel('.zip offline kit').check();
      const list = page.locator('section', { has: page.locator('#queue-title') });
      await list.getByRole('heading', { name: /^Offline kit \(3\)/ }).waitFor();
      assert.doesNotMatch((await list.textContent()) ?? '', /stored once/);
      assert.match((await list.textContent()) ?? '', /a tar of its own/);
      await page.waitForFunction(
        (before) => document.querySelector('[data-testid="file-estimate"]')?.textContent?.trim() !== before,
        three,
      );
      const kit = ((await estimate.textContent()) ?? '').trim();
      const kitSize = await download(page, 'Download 3 images', 'three.zip');
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(kit, `File about ${formatBytes(kitSize)}`);
      // Finished: the list says where its images went, until it changes.
      const fileName = ((await page.getByTestId('result-file').textContent()) ?? '').trim();
      await list.getByRole('heading', { name: `Saved in ${fileName} (3)` }).waitFor();
      await shot(page, LOOK, 'figures-kit-done-1280');
      await list.getByRole('button', { name: `Remove ${names[2]}` }).click();
      await list.getByRole('heading', { name: /^Offline kit \(2\)/ }).waitFor();
    } finally {
      await context.close();
    }
  });
});

/**
 * Where a line break falls inside a word in `selector`'s elements: two letters or digits on either side of
 * a break between lines (a name may wrap after its "." "_" "/" ":", never inside "label").
 */
async function brokenWords(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`(() => {
    const found = [];
    for (const el of document.querySelectorAll(${JSON.stringify(selector)})) {
      const chars = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode())
        for (let i = 0; i < node.data.length; i++) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rect = range.getClientRects()[0];
          if (rect) chars.push({ c: node.data[i], top: rect.top });
        }
      for (let i = 1; i < chars.length; i++)
        if (chars[i].top > chars[i - 1].top + 2 && /[\\p{L}\\p{N}]/u.test(chars[i - 1].c) && /[\\p{L}\\p{N}]/u.test(chars[i].c))
          found.push(chars.slice(Math.max(0, i - 12), i).map((x) => x.c).join('') + ' / ' + chars.slice(i, i + 6).map((x) => x.c).join(''));
    }
    return found;
  })()`);
}

interface Box {
  top: number;
  height: number;
  bottom: number;
}
const box = async (page: Page, selector: string): Promise<Box> => {
  const b = await page.locator(selector).first().boundingBox();
  assert.ok(b, selector);
  return { top: b.y, height: b.height, bottom: b.y + b.height };
};

/** The header in one row: the brand and every tool side by side. */
async function assertHeaderOneRow(page: Page, where: string): Promise<void> {
  const tops =
    await page.evaluate(`[...document.querySelectorAll('header.top .brand, header.top .tools > :not(.sr-only)')].map((el) => {
    const r = el.getBoundingClientRect();
    return [el.textContent.trim().slice(0, 20), Math.round(r.top + r.height / 2)];
  })`);
  const middles = (tops as [string, number][]).map(([, m]) => m);
  assert.ok(Math.max(...middles) - Math.min(...middles) <= 4, `${where}: header rows ${JSON.stringify(tops)}`);
  const header = await box(page, 'header.top');
  assert.ok(header.height < 80, `${where}: header ${header.height} px high`);
  const [scroll, inner] = (await page.evaluate(
    '[document.documentElement.scrollWidth, window.innerWidth]',
  )) as number[];
  assert.ok(scroll! <= inner!, `${where}: the page is ${scroll} px wide in a ${inner} px window`);
}

async function assertInputsAligned(page: Page, user: string, password: string, where: string): Promise<void> {
  const [u, p] = [await box(page, user), await box(page, password)];
  assert.ok(Math.abs(u.height - p.height) < 1, `${where}: Username ${u.height} px high, Password ${p.height} px`);
  assert.ok(Math.abs(u.top - p.top) < 1 || u.bottom <= p.top, `${where}: Username at ${u.top}, Password at ${p.top}`);
}

describe('words that fit', () => {
  for (const width of [390, 1280])
    it(`keeps names whole, the header in one row and the sign-in boxes even at ${width} px (item 14)`, async () => {
      const { context, page } = await newPage(browser, { width, height: 900 });
      try {
        await page.goto(server.url);
        await assertHeaderOneRow(page, `${width} px`);
        await page.getByLabel('Image', { exact: true }).fill(`${registry.host}/team/labelled:v1`);
        await waitResolved(page);
        await page.getByText(LABEL.slice(0, 12)).first().waitFor();
        assert.deepEqual(await brokenWords(page, 'section.details td.key'), [], `${width} px: label keys`);
        await page.locator('summary', { hasText: 'Private registry' }).click();
        await assertInputsAligned(page, '#username', '#password', `Pull at ${width} px`);
        await shot(page, LOOK, `figures-resolved-${width}`);
        // A long file name, in the progress and in the result.
        await download(page, 'Download', `labelled-${width}.tar`);
        await page.getByRole('heading', { name: 'Done' }).waitFor();
        assert.deepEqual(await brokenWords(page, '[data-testid="result-file"]'), [], `${width} px: file name`);
        await shot(page, LOOK, `figures-done-${width}`);
        await assertHeaderOneRow(page, `${width} px, done`);

        await page.getByRole('button', { name: 'Push', exact: true }).click();
        await assertHeaderOneRow(page, `${width} px, Push`);
        await page.locator('input[type="file"]').setInputFiles(join(scratch.path, `labelled-${width}.tar`));
        await page.locator('summary', { hasText: 'Private registry' }).click();
        await assertInputsAligned(page, '#push-username', '#push-password', `Push at ${width} px`);
        await shot(page, LOOK, `figures-push-${width}`);
      } finally {
        await context.close();
      }
    });
});

/** ASCII punctuation beside Chinese text, or a space after 。: what a Chinese reader sees as a slip. */
const MIXED =
  /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]\s*[:,;?!()]|[:,;?!()]\s*[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]|。 /u;

describe('简体中文', () => {
  it('reads the details, the progress and the result with Chinese punctuation and names (item 15)', async () => {
    const { context, page, problems } = await newPage(browser, { locale: 'zh-CN' });
    try {
      await page.goto(server.url);
      await page.getByLabel('镜像', { exact: true }).fill(`${slow.host}/team/big:v1`);
      await waitResolved(page);
      await page.getByLabel('镜像', { exact: true }).fill(`${registry.host}/team/labelled:v1`);
      await waitResolved(page);
      const details = (await page.locator('section.details').innerText()).replace(/\s+/g, ' ');
      assert.match(details, /层数：\d/);
      assert.match(details, /入口点（Entrypoint）/);
      assert.doesNotMatch(details, /(^| )(Entrypoint|Cmd) /);
      const lines = (text: string) => text.split('\n').filter((line) => MIXED.test(line));
      assert.deepEqual(lines(await page.locator('main').innerText()), []);
      // A slow pull, read while it runs.
      await page.getByLabel('镜像', { exact: true }).fill(`${slow.host}/team/big:v1`);
      await waitResolved(page);
      const downloading = page.waitForEvent('download', { timeout: 120_000 });
      downloading.catch(() => {});
      await page.getByRole('button', { name: '下载', exact: true }).click();
      await page.locator('.progress-card .stats').waitFor();
      const progress = await page.locator('.progress-card').innerText();
      assert.match(progress, /速度：/);
      assert.match(progress, /剩余时间：/);
      assert.deepEqual(lines(progress), []);
      await shot(page, LOOK, 'figures-zh-progress');
      await page.getByRole('heading', { name: '完成' }).waitFor({ timeout: 60_000 });
      assert.equal(await (await downloading).failure(), null);
      assert.deepEqual(lines(await page.locator('body').innerText()), []);
      assert.deepEqual(problems.errors, []);
    } finally {
      await context.close();
    }
  });
});
