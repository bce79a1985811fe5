/**
 * Figures that agree (issue 20, items 10, 11, 13), in real Chromium against a real registry behind a
 * throttled link: the progress table and the total read at several moments while a pull runs, the size
 * estimate held to the saved file for one and three images (tar and kit), and the list's words for a kit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../src/app/lib/format.ts';
import { LOOK, type Lab, bytesOf, download as save, secondsOf, shot, startLab } from './figures-lab.ts';
import { newPage, waitResolved } from './harness.ts';

let lab: Lab;
before(async () => {
  lab = await startLab('figures');
});
after(async () => {
  await lab?.stop();
});

const download = (page: Page, button: string, name: string) => save(page, lab.dir, button, name);

/** Adds names to the list the way a person does: type, wait for the look-up, press Add. */
async function addToList(page: Page, names: string[], button = 'Add to archive'): Promise<void> {
  for (const name of names) {
    await page.getByLabel('Image', { exact: true }).fill(name);
    await waitResolved(page);
    await page.getByRole('button', { name: button }).click();
    await page.locator('#queue-title').locator('xpath=../..').getByRole('listitem').filter({ hasText: name }).waitFor();
  }
}

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
    const { context, page, problems } = await newPage(lab.browser);
    // Layers unpacked, as docker save writes them: the file outgrows the download, and the words must say why.
    lab.server.config = { layers: 'uncompressed' };
    try {
      await page.goto(lab.server.url);
      await page.getByLabel('Image', { exact: true }).fill(`${lab.slow.host}/team/big:v1`);
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
      lab.server.config = {};
      await context.close();
    }
  });

  it('estimates the file of one and of three images as the size it then has (item 11), and names a kit’s list (item 13)', async () => {
    const { context, page } = await newPage(lab.browser);
    try {
      await page.goto(lab.server.url);
      const estimate = page.getByTestId('file-estimate');
      const names = ['team/one:v1', 'team/two:v1', 'team/labelled:v1'].map((n) => `${lab.registry.host}/${n}`);
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
