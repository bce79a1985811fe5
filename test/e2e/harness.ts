/**
 * What the web-app tests share: a build of the app, a tiny static server for it (under a sub-path, as
 * self-hosters often serve it), and Debian's Chromium driven by playwright-core.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve as resolvePath, sep } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { runCommand } from '../support/process.ts';

export const ROOT = resolvePath(import.meta.dirname, '../..');

/** `vite build` into a scratch directory (so a dist/ someone else is using is left alone). */
export async function buildApp(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-dist-'));
  await runCommand(
    join(ROOT, 'node_modules/.bin/vite'),
    ['build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: ROOT, timeoutMs: 120_000 },
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  /** Base URL of the app, ending in `/` (e.g. `http://127.0.0.1:PORT/skiff/`). */
  url: string;
  port: number;
  /** What `config.json` answers; undefined = 404, as on a server that has none. */
  config: unknown;
  stop(): Promise<void>;
}

/** Serves `dir` under `prefix` on 127.0.0.1, plus a config.json the test controls. */
export async function serveStatic(dir: string, prefix = '/skiff/'): Promise<StaticServer> {
  const root = resolvePath(dir);
  const state: { config: unknown } = { config: undefined };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    const rel = path.slice(prefix.length) || 'index.html';
    if (rel === 'config.json') {
      if (state.config === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('no config');
      else
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
          .end(JSON.stringify(state.config));
      return;
    }
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    port,
    get config() {
      return state.config;
    },
    set config(value: unknown) {
      state.config = value;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || '/usr/bin/chromium';
  } catch {
    return '/usr/bin/chromium';
  }
}

/**
 * Debian's Chromium, headless, with a fresh profile (Playwright makes one per launch). `skiff.test` maps
 * to 127.0.0.1: a page served from it is not a secure context, as on a plain-HTTP intranet host.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--host-resolver-rules=MAP skiff.test 127.0.0.1',
    ],
  });
}

export interface PageProblems {
  /** Console errors and CSP violations seen on the page, for asserting a clean run. */
  errors: string[];
}

export async function newPage(
  browser: Browser,
  options: { locale?: string; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    acceptDownloads: true,
    locale: options.locale ?? 'en-US',
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(message.text());
  });
  page.on('pageerror', (error) => problems.errors.push(String(error)));
  return { context, page, problems };
}

/** Waits until the page has looked the image up and shows its details (and, if given, that platform). */
export async function waitResolved(page: Page, platform?: string): Promise<void> {
  const details = page.locator('section.details[aria-busy="false"]');
  await details.waitFor();
  if (platform)
    await details
      .locator('dd', { hasText: new RegExp(`^${platform.replace(/\//g, '\\/')}$`) })
      .first()
      .waitFor();
}

/**
 * Chooses the Push view's archive as a person does: the "Choose a file…" button (`name`, in the page's
 * language), then the browser's file dialog.
 */
export async function chooseFile(page: Page, path: string, name = 'Choose a file…'): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name, exact: true }).click();
  await (await chooser).setFiles(path);
}
