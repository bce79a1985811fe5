/**
 * One Chromium run of the bench: the built app served here, a fresh browser profile per run (a first-time
 * visitor: StreamSaver's service worker is registered during the run), the page in English. With
 * `saveToPrivateFiles`, the page's "Save to…" gets a file in the profile's private file system (OPFS) instead
 * of the real picker, which headless Chromium refuses at once; the bench then reads that file from disk.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildApp, chromiumPath, serveStatic, type StaticServer } from '../e2e/harness.ts';
import { scratchDir } from '../support/process.ts';
import type { RssSampler } from './chromium-procs.ts';

export type LayerMode = 'kept' | 'uncompressed' | 'as-pulled';
/** How the page saves: StreamSaver's service worker (Download) or the File System Access API ("Save to…"). */
export type SaveMethod = 'service worker' | 'save to';

export interface ChromiumRun {
  page: Page;
  /** The browser's downloads folder. */
  downloads: string;
  /** Where the profile keeps the private file system ("Save to…" files land there under obfuscated names). */
  privateFiles: string;
  /** Errors the page threw, for failure messages. */
  errors: string[];
}

export interface ChromiumHost {
  server: StaticServer;
  /** Settings every run's config.json carries (the bench's `--parallel`). */
  settings: Record<string, unknown>;
  /** Runs `fn` in a fresh browser with config.json = settings + `config`; the browser and its profile go afterwards. */
  withPage<T>(
    config: Record<string, unknown>,
    fn: (run: ChromiumRun) => Promise<T>,
    saveToPrivateFiles?: boolean,
  ): Promise<T>;
  /** A fresh folder for one run (a browser profile, its downloads), removed by whoever runs there. */
  runDir(): string;
  close(): Promise<void>;
}

/** Builds the app once and serves it. */
export async function startChromiumHost(settings: Record<string, unknown>): Promise<ChromiumHost> {
  const build = await buildApp();
  const server = await serveStatic(build.dir);
  const scratch = scratchDir('bench-chromium');
  let closed = false;
  let runs = 0;
  return {
    server,
    settings,
    async withPage(config, fn, saveToPrivateFiles = false) {
      const dir = join(scratch.path, `run-${++runs}`);
      const downloads = join(dir, 'downloads');
      mkdirSync(downloads, { recursive: true });
      server.config = { ...settings, ...config };
      const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath: chromiumPath(),
        headless: true,
        downloadsPath: downloads,
        acceptDownloads: true,
        locale: 'en-US',
        viewport: { width: 1280, height: 900 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(String(error)));
        if (saveToPrivateFiles)
          await page.addInitScript(() => {
            window.showSaveFilePicker = async (options) => {
              const root = await navigator.storage.getDirectory();
              return root.getFileHandle(options?.suggestedName ?? 'picked.tar', { create: true });
            };
          });
        return await fn({ page, downloads, privateFiles: join(dir, 'profile', 'Default', 'File System'), errors });
      } finally {
        await context.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    runDir: () => join(scratch.path, `run-${++runs}`),
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      build.remove();
      scratch.remove();
    },
  };
}

/** The largest file below `dir`: where "Save to…" wrote in the private file system. */
export function largestFile(dir: string): { path: string; size: number } | undefined {
  let best: { path: string; size: number } | undefined;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (!best || stat.size > best.size) best = { path, size: stat.size };
    }
  };
  walk(dir);
  return best;
}

/**
 * Clicks Download or "Save to…" and waits until the file is complete on disk; moves it to `out` after
 * checking that the page states its size. The sampler's clock runs from the click.
 */
export async function saveAndWait(
  run: ChromiumRun,
  sampler: RssSampler,
  save: SaveMethod,
  out: string,
): Promise<{ seconds: number; extra: string }> {
  const { page } = run;
  // Download's label counts the images once a list is queued ("Download 20 images"): found by its id.
  const button =
    save === 'save to' ? page.getByRole('button', { name: 'Save to…', exact: true }) : page.locator('#download-button');
  await button.waitFor();
  let path: string;
  let extra = '';
  if (save === 'service worker') {
    const downloading = page.waitForEvent('download', { timeout: 120_000 });
    await button.click();
    const download = await downloading;
    extra = `download event at ${sampler.elapsed().toFixed(2)} s`;
    path = await download.path();
    const failure = await download.failure();
    if (failure) throw new Error(`the download failed: ${failure}; page errors: ${run.errors.join('; ')}`);
  } else {
    await button.click();
    await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 3_600_000 });
    const file = largestFile(run.privateFiles);
    if (!file) throw new Error(`"Save to…" left no file; page errors: ${run.errors.join('; ')}`);
    path = file.path;
  }
  const seconds = sampler.elapsed();
  await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 60_000 });
  const sizeShown = (await page.getByTestId('result-size').textContent()) ?? '';
  const size = statSync(path).size;
  if (!sizeShown.replace(/[\s,]/g, '').includes(`(${size}B)`))
    throw new Error(`the page says ${sizeShown}, the file has ${size} bytes`);
  renameSync(path, out);
  return { seconds, extra };
}
