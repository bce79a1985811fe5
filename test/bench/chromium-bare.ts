/**
 * A single pull in Chromium measured over a bare DevTools pipe (test/support/cdp-pipe.ts), not Playwright:
 * Playwright's sessions make Chromium keep copies of response bodies (~190 MiB), which the memory column
 * would count as the page's. The page is driven the way the e2e memory test drives it: the deep link, a
 * click on Download or "Save to…", the Done heading.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launchCdpChromium } from '../support/cdp-pipe.ts';
import { RssSampler, type Sampled } from './chromium-procs.ts';
import { type ChromiumHost, type SaveMethod, largestFile } from './chromium-session.ts';

/** Headless Chromium refuses the real picker at once; the page gets a file in its private storage instead. */
const PRIVATE_PICKER = `window.showSaveFilePicker = async (options) =>
  (await navigator.storage.getDirectory()).getFileHandle(options?.suggestedName ?? 'picked.tar', { create: true });`;

export interface BarePull {
  ref: string;
  save: SaveMethod;
  /** config.json for this run, beside the host's settings. */
  config: Record<string, unknown>;
  /** Where the file goes once complete. */
  out: string;
}

export async function barePull(
  host: ChromiumHost,
  runDir: string,
  pull: BarePull,
): Promise<{ seconds: number; extra: string; sampled: Sampled }> {
  const profile = join(runDir, 'profile');
  const downloads = join(runDir, 'downloads');
  mkdirSync(downloads, { recursive: true });
  host.server.config = { ...host.settings, ...pull.config };
  const browser = await launchCdpChromium(profile);
  let sampler: RssSampler | undefined;
  try {
    let finished: (state: string) => void = () => {};
    const downloaded = new Promise<string>((resolve) => (finished = resolve));
    let downloadEventAt: number | undefined;
    browser.on('Browser.downloadWillBegin', () => void (downloadEventAt = sampler?.elapsed()));
    browser.on('Browser.downloadProgress', (p) => {
      if (p.state === 'completed' || p.state === 'canceled') finished(p.state as string);
    });
    await browser.send('Browser.setDownloadBehavior', {
      behavior: 'allowAndName',
      downloadPath: downloads,
      eventsEnabled: true,
    });
    if (pull.save === 'save to')
      await browser.send('Page.addScriptToEvaluateOnNewDocument', { source: PRIVATE_PICKER }, browser.page);
    await browser.send(
      'Page.navigate',
      { url: `${host.server.url}?image=${encodeURIComponent(pull.ref)}` },
      browser.page,
    );
    await browser.waitFor(`document.querySelector('section.details[aria-busy="false"]')`, 60_000, 'the image resolved');
    // Idle: the page is loaded and the image resolved; let the browser settle before taking the baseline.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const privateFiles = join(profile, 'Default', 'File System');
    sampler = new RssSampler(pull.save === 'save to' ? privateFiles : downloads);
    sampler.start();
    const button =
      pull.save === 'save to'
        ? `[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Save to…')`
        : `document.getElementById('download-button')`;
    await browser.evaluate(`${button}.click()`);
    const failed = `document.querySelector('[role="alert"].shown')?.textContent`;
    let path: string;
    if (pull.save === 'service worker') {
      const state = await Promise.race([
        downloaded,
        browser.waitFor(failed, 3_600_000, 'an error').then(async () => `failed: ${await browser.evaluate(failed)}`),
      ]);
      if (state !== 'completed') throw new Error(`the download ended ${state}`);
      const [name] = readdirSync(downloads);
      path = join(downloads, name!);
    } else {
      await browser.waitFor(`document.getElementById('result-title') || ${failed}`, 3_600_000, 'Done');
      const error = await browser.evaluate<string | null>(`${failed} ?? null`);
      if (error) throw new Error(`the page says: ${error}`);
      const file = largestFile(privateFiles);
      if (!file) throw new Error('"Save to…" left no file');
      path = file.path;
    }
    const seconds = sampler.elapsed();
    const sampled = sampler.stop();
    sampler = undefined;
    await browser.waitFor(`document.querySelector('[data-testid="result-size"]')`, 60_000, 'Done');
    const sizeShown = await browser.evaluate<string>(
      `document.querySelector('[data-testid="result-size"]').textContent`,
    );
    const size = statSync(path).size;
    if (!sizeShown.replace(/[\s,]/g, '').includes(`(${size}B)`))
      throw new Error(`the page says ${sizeShown}, the file has ${size} bytes`);
    renameSync(path, pull.out);
    const extra = downloadEventAt === undefined ? '' : `download event at ${downloadEventAt.toFixed(2)} s`;
    return { seconds, extra, sampled };
  } finally {
    sampler?.stop();
    await browser.close();
    rmSync(runDir, { recursive: true, force: true });
  }
}
