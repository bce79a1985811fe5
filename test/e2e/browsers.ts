/**
 * Firefox ESR and WebKitGTK for the smoke suites, behind one small interface: open a page, run a function
 * in it, click like a person, and a folder where the browser's downloads land.
 * - Firefox: puppeteer-core over WebDriver BiDi, headless; downloads go to a folder set by prefs.
 * - WebKit: WebKitWebDriver driving the MiniBrowser of libwebkit2gtk-4.1 on a virtual X display
 *   (xvfb-run); downloads go to the XDG download folder of a scratch HOME.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser as PuppeteerBrowser } from 'puppeteer-core';
import { freePort, scratchDir, waitUntil } from '../support/process.ts';
import { WebDriverSession } from './webdriver.ts';

export const FIREFOX = '/usr/bin/firefox-esr';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export interface TestPage {
  goto(url: string): Promise<void>;
  /** Runs `fn` in the page (it must not use anything from the test's scope) and returns its result. */
  evaluate<T, A extends unknown[]>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T>;
  /** A native click on the first element matching `css`. */
  click(css: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestBrowser {
  name: 'firefox' | 'webkit';
  /** The folder the browser saves downloads into. */
  downloads: string;
  newPage(): Promise<TestPage>;
  close(): Promise<void>;
}

export async function launchFirefox(options: { prefs?: Record<string, unknown> } = {}): Promise<TestBrowser> {
  const scratch = scratchDir('firefox');
  const downloads = join(scratch.path, 'downloads');
  mkdirSync(downloads);
  let browser: PuppeteerBrowser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: join(scratch.path, 'profile'),
      extraPrefsFirefox: {
        'browser.download.dir': downloads,
        'browser.download.folderList': 2,
        'browser.download.useDownloadDir': true,
        'browser.download.always_ask_before_handling_new_types': false,
        // Into the folder directly (with a .part file while running), not via a temporary folder.
        'browser.download.start_downloads_in_tmp_dir': false,
        'browser.download.alwaysOpenPanel': false,
        // `skiff.test` is 127.0.0.1 but not a secure context, like a plain-HTTP intranet host.
        'network.dns.localDomains': 'skiff.test',
        ...options.prefs,
      },
    });
  } catch (error) {
    scratch.remove();
    throw error;
  }
  return {
    name: 'firefox',
    downloads,
    async newPage() {
      const page = await browser.newPage();
      return {
        goto: async (url) => {
          await page.goto(url);
        },
        evaluate: (fn, ...args) => page.evaluate(fn as never, ...(args as unknown as never[])) as never,
        click: (css) => page.click(css),
        close: () => page.close(),
      };
    },
    async close() {
      await browser.close().catch(() => {});
      scratch.remove();
    },
  };
}

export async function launchWebKit(): Promise<TestBrowser> {
  const scratch = scratchDir('webkit');
  const home = join(scratch.path, 'home');
  const downloads = join(home, 'Downloads');
  mkdirSync(downloads, { recursive: true });
  mkdirSync(join(home, '.config'));
  writeFileSync(join(home, '.config/user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${downloads}"\n`);
  const port = await freePort();
  // Its own process group: xvfb-run, Xvfb, the driver and the MiniBrowser end together.
  const child = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x1024x24', 'WebKitWebDriver', `--port=${port}`, '--host=127.0.0.1'],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
    },
  );
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const base = `http://127.0.0.1:${port}`;
  let session: WebDriverSession;
  try {
    await waitUntil('WebKitWebDriver', async () => (await fetch(`${base}/status`)).ok, 20_000);
    session = await WebDriverSession.create(base, {
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    });
  } catch (error) {
    stop();
    scratch.remove();
    throw new Error(`WebKit did not start: ${String(error)}\n${log}`, { cause: error });
  }
  return {
    name: 'webkit',
    downloads,
    // One window for the whole suite: each "page" navigates it afresh.
    async newPage() {
      return {
        goto: (url) => session.navigate(url),
        evaluate: (fn, ...args) => session.execute(`return (${fn.toString()}).apply(null, arguments);`, args),
        click: (css) => session.click(css),
        close: async () => {
          await session.navigate('about:blank');
        },
      };
    },
    async close() {
      await session.close().catch(() => {});
      stop();
      scratch.remove();
    },
  };
}
