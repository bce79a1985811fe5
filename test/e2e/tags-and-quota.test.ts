/**
 * What the page says about what a registry answered, in real Chromium: a tag that does not exist (the
 * repository's nearest tags, listed once the manifest was not found), and Docker Hub's pull quota through a
 * shared relay (`npm start`'s, with RELAY_DOCKERHUB_MIRROR pointing at a local registry behind a fault proxy
 * that sends Docker Hub's quota headers and its 429 TOOMANYREQUESTS).
 *
 * SKIFF_SCREENSHOTS=DIR also writes screenshots of these states there.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { answerPreflights, fault, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, smallLayers } from '../support/images.ts';
import { pushManifest, startRegistry, type Registry } from '../support/registry.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { startServer, type RunningServer } from '../../src/relay/serve.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const TAGS = ['1.25', '1.26', '1.27', '1.27.1', '1.27-alpine', 'latest', 'stable'];
/** What Docker Hub answers when the quota is used up. */
const TOO_MANY = JSON.stringify({
  errors: [
    {
      code: 'TOOMANYREQUESTS',
      message: 'You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit',
    },
  ],
});
const QUOTA_HEADERS = { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' };

let registry: Registry;
let front: FaultProxy;
/** Plays Docker Hub: the relay sends registry-1.docker.io here. */
let hub: Registry;
let hubFront: FaultProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let relayServer: RunningServer;
let browser: Browser;

async function typeName(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).pressSequentially(text, { delay: 120 });
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

const isManifestGet = (r: { method: string; path: string }) => r.method === 'GET' && r.path.includes('/manifests/');

before(async () => {
  [registry, hub, build, browser] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry(),
    buildApp(),
    launchBrowser(),
  ]);
  const image = await pushImage(registry, 'team/app', TAGS[0]!, { format: 'oci', layers: smallLayers('gzip') });
  for (const tag of TAGS.slice(1))
    await pushManifest(registry, 'team/app', tag, Buffer.from(image.manifestBytes).toString(), image.manifestMediaType);
  await pushImage(hub, 'library/nginx', '1.27', { format: 'oci', layers: smallLayers('gzip') });
  front = await startFaultProxy(registry.url, answerPreflights);
  hubFront = await startFaultProxy(hub.url);
  server = await serveStatic(build.dir);
  server.config = {};
  relayServer = await startServer({
    config: relayConfigFromEnv({
      RELAY_DOCKERHUB_MIRROR: hubFront.host,
      RELAY_ALLOW_PRIVATE: hubFront.host,
      RELAY_PLAIN_HTTP: hubFront.host,
    }),
    distDir: build.dir,
    port: 0,
    log: () => {},
  });
});

after(async () => {
  await browser?.close();
  await Promise.all([
    server?.stop(),
    relayServer?.close(),
    front?.stop(),
    hubFront?.stop(),
    registry?.stop(),
    hub?.stop(),
  ]);
  build?.remove();
});

describe('a tag that does not exist', () => {
  it('offers the nearest tags, listed once after the manifest was not found, and choosing one fills the field', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.locator('[role="alert"]').waitFor({ state: 'attached' });
      front.reset();
      // At a person's pace, with a pause after "1" long enough for the page to look `app:1` up (not found).
      await typeName(page, 'Image', `${front.host}/team/app:1`);
      await page.waitForTimeout(2500);
      await page.getByLabel('Image', { exact: true }).pressSequentially('.2.7', { delay: 700 });
      const alert = page.getByRole('alert');
      await alert.getByText('This repository has no tag “1.2.7”').waitFor({ timeout: 20_000 });
      const offered = alert.getByTestId('nearest-tags').getByRole('button');
      assert.equal(await offered.first().textContent(), '1.27');
      assert.ok((await offered.count()) <= 6);
      await shot(page, 'nearest-tags-1280');
      // One listing for the repository, after the registry said a manifest does not exist; none per key.
      const listings = front.requests.filter((r) => r.path.includes('/tags/list'));
      assert.equal(listings.length, 1, listings.map((r) => r.path).join('\n'));
      const notFound = front.requests.find((r) => r.path.includes('/manifests/') && r.status === 404);
      assert.ok(notFound && notFound.index < listings[0]!.index, 'listed only after a manifest was not found');
      assert.ok(
        front.requests.some((r) => r.path.endsWith('/manifests/1.2.7') && r.status === 404),
        'the whole name was looked up',
      );

      await page.getByRole('button', { name: 'Use tag 1.27', exact: true }).click();
      assert.equal(await page.getByLabel('Image', { exact: true }).inputValue(), `${front.host}/team/app:1.27`);
      await waitResolved(page);
      assert.equal((await alert.textContent())?.trim(), '');
    } finally {
      await context.close();
    }
  });
});

describe('Docker Hub through a shared relay', () => {
  it('says when few pulls are left in the quota everyone behind the relay shares, and how to get one’s own', async () => {
    hubFront.setPlan((r) =>
      r.path.includes('/manifests/')
        ? fault.addHeaders({ ...QUOTA_HEADERS, 'ratelimit-remaining': '4;w=21600' })
        : undefined,
    );
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'Image', 'nginx:1.27');
      await waitResolved(page);
      const notice = page.getByTestId('quota-notice');
      await notice.waitFor();
      const text = (await notice.innerText()).replace(/\s+/g, ' ');
      assert.match(
        text,
        new RegExp(
          `4 of 100 pulls left in the one anonymous quota that everyone using the relay at ${relayServer.url}/relay shares`,
        ),
      );
      assert.match(
        text,
        /Sign in under “Private registry” with a Docker Hub account or a personal access token: a free account has a quota of its own/,
      );
      assert.match(text, /counts pulls over 6 h:/);
      await shot(page, 'quota-low-1280');
    } finally {
      hubFront.setPlan(undefined);
      await context.close();
    }
  });

  it('says Docker Hub answered 429 TOOMANYREQUESTS, when the quota resets, and the fix, in English and Chinese', async () => {
    hubFront.setPlan((r) =>
      isManifestGet(r) ? fault.status(429, { ...QUOTA_HEADERS, 'retry-after': '3600' }, TOO_MANY) : undefined,
    );
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'Image', 'nginx:1.27');
      const alert = page.getByRole('alert');
      await alert.getByText('429 TOOMANYREQUESTS').waitFor({ timeout: 20_000 });
      const text = (await alert.innerText()).replace(/\s+/g, ' ');
      assert.match(text, /the pull quota is used up/);
      assert.match(
        text,
        new RegExp(`Everyone whose pages go through the relay at ${relayServer.url}/relay shares one anonymous quota`),
      );
      assert.match(text, /Sign in under “Private registry” with a Docker Hub account or a personal access token/);
      const clock = /The quota resets at (\d\d):(\d\d) \(in (59 min \d+ s|1 h 0 min)\)/.exec(text);
      assert.ok(clock, text);
      const expected = new Date(Date.now() + 3600_000);
      const said = new Date(expected);
      said.setHours(Number(clock[1]), Number(clock[2]));
      assert.ok(
        Math.abs(said.getTime() - expected.getTime()) < 3 * 60_000,
        `${clock[0]} vs ${expected.toTimeString()}`,
      );
      assert.doesNotMatch(text, /answered with an error|needs you to sign in/);
      await shot(page, 'quota-429-1280');

      await page.getByLabel('Language').selectOption('zh');
      const zh = (await alert.innerText()).replace(/\s+/g, ' ');
      assert.match(zh, /Docker Hub 以 429 TOOMANYREQUESTS（请求过多）拒绝：拉取配额已用完/);
      assert.match(zh, /请在“私有仓库”中用 Docker Hub 账号或个人访问令牌登录/);
      assert.match(zh, /配额将于 \d\d:\d\d 重置/);
      await shot(page, 'quota-429-zh-1280');
    } finally {
      hubFront.setPlan(undefined);
      await context.close();
    }
  });

  it('without a reset time, tells the window Docker Hub counts over', async () => {
    hubFront.setPlan((r) => (isManifestGet(r) ? fault.status(429, QUOTA_HEADERS, TOO_MANY) : undefined));
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeName(page, 'Image', 'nginx:1.27');
      const alert = page.getByRole('alert');
      await alert.getByText('429 TOOMANYREQUESTS').waitFor({ timeout: 30_000 });
      assert.match(await alert.innerText(), /The quota counts pulls over 6 h: they free up again within that time/);
    } finally {
      hubFront.setPlan(undefined);
      await context.close();
    }
  });
});
