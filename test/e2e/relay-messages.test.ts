/**
 * What the page says about a registry behind the relay that was never reached, in real Chromium with the
 * page and relay as `npm start` serves them: a Docker Hub name when Docker Hub's name does not resolve (the
 * page looks those up with HEAD, whose answer has no body), and a mistyped registry host that is not on the
 * relay's allowlist, in English and in Chinese. Only DNS is replaced: the relay's resolver answers "no such
 * name" for every host, as on a network without a way out.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { type LookupAll, createNodeFetch } from '../../src/relay/node-fetch.ts';
import { startServer, type RunningServer } from '../../src/relay/serve.ts';
import { buildApp, launchBrowser, newPage } from './harness.ts';

let build: { dir: string; remove(): void };
let relayServer: RunningServer;
let browser: Browser;
const relayLog: string[] = [];

const noSuchName: LookupAll = (hostname, _options, callback) =>
  callback(
    Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }),
    [] as LookupAddress[],
  );

before(async () => {
  [build, browser] = await Promise.all([buildApp(), launchBrowser()]);
  // The default allowlist (Docker Hub, GHCR, Quay, …), as a relay with no settings has it.
  relayServer = await startServer({
    config: relayConfigFromEnv({}),
    distDir: build.dir,
    port: 0,
    fetch: createNodeFetch({ lookup: noSuchName }),
    log: (line) => relayLog.push(line),
  });
});

after(async () => {
  await browser?.close();
  await relayServer?.close();
  build?.remove();
});

/** Clears the field and types `text` key by key, as a person does. */
async function typeName(page: Page, text: string, label = 'Image'): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await field.focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await field.pressSequentially(text, { delay: 80 });
}

/** The alert's text (its details opened) once it contains `expected`. */
async function alertSaying(page: Page, expected: string): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.getByText(expected).first().waitFor({ timeout: 30_000 });
  for (const summary of await alert.locator('details > summary').all()) await summary.click();
  return (await alert.innerText()).replace(/\s+/g, ' ');
}

describe('a registry the relay could not reach, or will not contact', () => {
  it('says the relay could not find Docker Hub when its name does not resolve, not that it answered', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'ngnix');
      const relay = `${relayServer.url}/relay`;
      const text = await alertSaying(page, 'could not find registry-1.docker.io');
      assert.match(
        text,
        new RegExp(
          `The relay at ${relay} could not find registry-1\\.docker\\.io: the name does not resolve \\(DNS\\)`,
        ),
      );
      assert.match(text, /upstream-unreachable: Could not reach registry-1\.docker\.io: getaddrinfo ENOTFOUND/);
      assert.match(text, /the relay’s own network most likely cannot reach the internet/);
      assert.match(text, /Settings → Docker Hub mirror/);
      assert.doesNotMatch(text, /answered with an error|the registry answered HTTP 502/);
      assert.ok(
        relayLog.some((line) =>
          / HEAD registry-1\.docker\.io \/v2\/library\/ngnix\/manifests\/latest 502 .*upstream-unreachable/.test(line),
        ),
        relayLog.join('\n'),
      );
      await page.screenshot({ path: '/tmp/skiff-relay-dns.png' });
    } finally {
      await context.close();
    }
  });

  it('asks to check a mistyped registry name first, with the registries people mean, then names the allowlist', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'nosuch.invalid/x:1');
      let text = await alertSaying(page, 'First check the registry name nosuch.invalid');
      const check = text.indexOf('First check the registry name nosuch.invalid for a typo.');
      const allowlist = text.indexOf('Ask whoever runs the relay to add nosuch.invalid to RELAY_ALLOW.');
      assert.ok(check >= 0 && allowlist > check, text);
      assert.match(text, /The registries people usually mean, nearest first: [a-z0-9.]+, /);
      for (const registry of ['docker.io', 'ghcr.io', 'quay.io']) assert.match(text, new RegExp(registry), text);

      await typeName(page, 'ghrc.io/org/app:1');
      text = await alertSaying(page, 'First check the registry name ghrc.io');
      assert.match(text, /nearest first: ghcr\.io, /);
      await page.screenshot({ path: '/tmp/skiff-relay-typo-en.png' });
    } finally {
      await context.close();
    }
  });

  it('says the same in Chinese', async () => {
    const { context, page } = await newPage(browser, { locale: 'zh-CN' });
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'ghrc.io/org/app:1', '镜像');
      const text = await alertSaying(page, '请先检查镜像仓库名称 ghrc.io 是否拼写有误');
      const check = text.indexOf(
        '请先检查镜像仓库名称 ghrc.io 是否拼写有误。常用的镜像仓库（越相近越靠前）：ghcr.io、',
      );
      const allowlist = text.indexOf('把 ghrc.io 加入 RELAY_ALLOW');
      assert.ok(check >= 0 && allowlist > check, text);

      await typeName(page, 'ngnix', '镜像');
      const dns = await alertSaying(page, '找不到 registry-1.docker.io');
      assert.match(dns, /无法解析这个域名（DNS）/);
      assert.match(dns, /设置 → Docker Hub 镜像加速地址/);
      await page.screenshot({ path: '/tmp/skiff-relay-zh.png' });
    } finally {
      await context.close();
    }
  });
});
