/**
 * Words that fit (issue 20, items 14 and 15), in real Chromium: names wrap only between their parts, the
 * header stays one row and the sign-in boxes even at 390 px and 1280 px (boxes measured), and the page in
 * 简体中文 — details, progress, result — uses Chinese punctuation and names.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { LABEL, LOOK, type Lab, download as save, shot, startLab } from './figures-lab.ts';
import { newPage, waitResolved } from './harness.ts';

let lab: Lab;
before(async () => {
  lab = await startLab('words');
});
after(async () => {
  await lab?.stop();
});

const download = (page: Page, button: string, name: string) => save(page, lab.dir, button, name);

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
      const { context, page } = await newPage(lab.browser, { width, height: 900 });
      try {
        await page.goto(lab.server.url);
        await assertHeaderOneRow(page, `${width} px`);
        await page.getByLabel('Image', { exact: true }).fill(`${lab.registry.host}/team/labelled:v1`);
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
        await page.locator('input[type="file"]').setInputFiles(join(lab.dir, `labelled-${width}.tar`));
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
    const { context, page, problems } = await newPage(lab.browser, { locale: 'zh-CN' });
    try {
      await page.goto(lab.server.url);
      await page.getByLabel('镜像', { exact: true }).fill(`${lab.slow.host}/team/big:v1`);
      await waitResolved(page);
      await page.getByLabel('镜像', { exact: true }).fill(`${lab.registry.host}/team/labelled:v1`);
      await waitResolved(page);
      const details = (await page.locator('section.details').innerText()).replace(/\s+/g, ' ');
      assert.match(details, /层数：\d/);
      assert.match(details, /入口点（Entrypoint）/);
      assert.doesNotMatch(details, /(^| )(Entrypoint|Cmd) /);
      const lines = (text: string) => text.split('\n').filter((line) => MIXED.test(line));
      assert.deepEqual(lines(await page.locator('main').innerText()), []);
      // A slow pull, read while it runs.
      await page.getByLabel('镜像', { exact: true }).fill(`${lab.slow.host}/team/big:v1`);
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
