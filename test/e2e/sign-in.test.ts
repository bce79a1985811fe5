/**
 * Signing in to a private registry as a person does, in real Chromium: Download after typing credentials
 * (one press signs in, resolves and downloads), what the page says once signed in, and Sign out — in Pull
 * and Push, in English and Chinese. A bearer-token registry through `npm start`'s relay and a basic-auth
 * registry reached directly.
 *
 * SKIFF_SCREENSHOTS=docs/screenshots also writes the signed-in state there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { answerPreflights, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, smallLayers } from '../support/images.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startTokenServer, type TokenServer } from '../support/token-server.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { startServer, type RunningServer } from '../../src/relay/serve.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const USER = 'alice';
const PASSWORD = 'Tr0ub4dor-3';

let tokens: TokenServer;
/** Token auth and no CORS headers, as Harbor is: reached through the relay. */
let bearer: Registry;
/** htpasswd with CORS headers: reached directly (the proxy answers the preflights distribution refuses). */
let basic: Registry;
let basicFront: FaultProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let relayServer: RunningServer;
let browser: Browser;
const scratch = scratchDir('e2e-sign-in');
/** A tar to push, made by the engine before the page starts. */
const tarPath = join(scratch.path, 'to-push.tar');

/** Types `text` into the field key by key, at a person's pace. */
async function typeInto(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).pressSequentially(text, { delay: 40 });
}

before(async () => {
  tokens = await startTokenServer({ users: { [USER]: PASSWORD } });
  [bearer, basic, build, browser] = await Promise.all([
    startRegistry({ auth: { token: tokens } }),
    startRegistry({ cors: true, auth: { htpasswd: { username: USER, password: PASSWORD } } }),
    buildApp(),
    launchBrowser(),
  ]);
  await Promise.all([
    pushImage(bearer, 'private/app', '1', { format: 'oci', layers: smallLayers('gzip') }),
    pushImage(basic, 'private/app', '1', { format: 'docker', layers: smallLayers('gzip') }),
  ]);
  basicFront = await startFaultProxy(basic.url, answerPreflights);
  await pullToFile([`${basic.host}/private/app:1`], tarPath, {
    credentials: { username: USER, password: PASSWORD },
  });
  server = await serveStatic(build.dir);
  server.config = {};
  // The basic-auth registry takes pushes through the relay, as Harbor does.
  const hosts = [bearer.host, new URL(tokens.url).host, basic.host].join(',');
  relayServer = await startServer({
    config: relayConfigFromEnv({
      RELAY_ALLOW: hosts,
      RELAY_ALLOW_PRIVATE: hosts,
      RELAY_PLAIN_HTTP: hosts,
      RELAY_ALLOW_PUSH: basic.host,
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
    basicFront?.stop(),
    bearer?.stop(),
    basic?.stop(),
    tokens?.stop(),
  ]);
  build?.remove();
  scratch.remove();
});

describe('signing in', () => {
  for (const kind of ['bearer-token registry through the relay', 'basic-auth registry'] as const) {
    it(`Download after typing credentials signs in, resolves and downloads at one press (${kind})`, async () => {
      const relayed = kind.startsWith('bearer');
      const host = relayed ? bearer.host : basicFront.host;
      const { context, page } = await newPage(browser);
      try {
        await page.goto(relayed ? `${relayServer.url}/` : server.url);
        await typeInto(page, 'Image', `${host}/private/app:1`);
        // The refusal opens the sign-in where the fix is.
        await page.getByRole('alert').getByText('needs you to sign in').waitFor();
        await typeInto(page, 'Username', USER);
        await typeInto(page, 'Password', PASSWORD);
        const downloading = page.waitForEvent('download', { timeout: 20_000 });
        await page.getByRole('button', { name: 'Download', exact: true }).click();
        const download = await downloading;
        const path = join(scratch.path, `${relayed ? 'bearer' : 'basic'}.tar`);
        await download.saveAs(path);
        assert.equal(await download.failure(), null);
        await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 20_000 });
        assert.ok(statSync(path).size > 2048, 'a tar with the image in it');
        assert.equal((await page.getByRole('alert').textContent())?.trim(), '');
        await page.getByText(`Signed in to ${host} as ${USER}`).first().waitFor();
      } finally {
        await context.close();
      }
    });
  }

  it('says who is signed in where, in Pull and Push, and Sign out forgets the credentials', async () => {
    const { context, page } = await newPage(browser);
    const host = basicFront.host;
    try {
      await page.goto(server.url);
      await typeInto(page, 'Image', `${host}/private/app:1`);
      await page.getByRole('alert').getByText('needs you to sign in').waitFor();
      const panel = page.locator('details.credentials');
      // A wrong password: the panel says the registry refused it, not that anyone is signed in.
      await typeInto(page, 'Username', USER);
      await typeInto(page, 'Password', 'wrong');
      await page.getByLabel('Password').press('Enter');
      await panel.getByText(`${host} refused the password or token for ${USER}`).waitFor();
      assert.equal(await panel.getByText('Signed in to').count(), 0);

      await page.getByLabel('Password').fill('');
      await typeInto(page, 'Password', PASSWORD);
      await page.getByLabel('Remember on this device').check();
      await page.getByLabel('Password').press('Enter');
      await waitResolved(page);
      // Said where a person looks: the panel's heading and beside its buttons.
      await panel.locator('summary', { hasText: `Signed in to ${host} as ${USER}` }).waitFor();
      await panel.getByRole('status').getByText(`Signed in to ${host} as ${USER}`).waitFor();
      assert.equal(await panel.locator('summary', { hasText: `Sign in to ${host}` }).count(), 0);
      assert.ok(await page.evaluate(() => localStorage.getItem('skiff.credentials')));
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'signed-in-1280.png'), fullPage: true });
      }

      // The Push view shows the same sign-in for the same registry.
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const download = await page.waitForEvent('download');
      const tar = join(scratch.path, 'for-push.tar');
      await download.saveAs(tar);
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      await page.locator('input[type="file"]').setInputFiles(tar);
      await page.getByLabel('Push to').fill(`${host}/private/copy:2`);
      const pushPanel = page.locator('details.credentials');
      await pushPanel.locator('summary', { hasText: `Signed in to ${host} as ${USER}` }).waitFor();
      await pushPanel.locator('summary').click();
      await pushPanel.getByRole('button', { name: 'Sign out' }).click();
      await pushPanel.locator('summary', { hasText: `Sign in to ${host}` }).waitFor();
      assert.equal(await page.getByLabel('Username').inputValue(), '');
      assert.equal(await page.getByLabel('Password').inputValue(), '');
      assert.equal(await page.evaluate(() => localStorage.getItem('skiff.credentials')), null);

      // Back in Pull: the registry is asked without them again, and says so.
      await page.getByRole('button', { name: 'Pull', exact: true }).click();
      await page.getByLabel('Image', { exact: true }).fill(`${host}/private/app:1`);
      await page.getByRole('alert').getByText('needs you to sign in').waitFor();
      await page.locator('details.credentials summary', { hasText: `Sign in to ${host}` }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('says it in Chinese, and a bearer sign-out stops sending the account to the token service', async () => {
    const { context, page } = await newPage(browser, { locale: 'zh-CN' });
    const host = bearer.host;
    try {
      await page.goto(`${relayServer.url}/`);
      await typeInto(page, '镜像', `${host}/private/app:1`);
      await page.getByRole('alert').getByText('登录').first().waitFor();
      await typeInto(page, '用户名', USER);
      await typeInto(page, '密码', PASSWORD);
      await page.getByLabel('密码', { exact: true }).press('Enter');
      await waitResolved(page);
      const panel = page.locator('details.credentials');
      await panel.locator('summary', { hasText: `已以 ${USER} 身份登录 ${host}` }).waitFor();
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'signed-in-zh-1280.png') });
      tokens.requests.length = 0;
      await panel.getByRole('button', { name: '退出登录' }).click();
      await panel.locator('summary', { hasText: `登录 ${host}` }).waitFor();
      await page.getByRole('alert').getByText('登录').first().waitFor();
      assert.ok(tokens.requests.length > 0, 'looked up again after signing out');
      assert.deepEqual(
        tokens.requests.filter((r) => r.account !== undefined),
        [],
        'the account is not sent after Sign out',
      );
    } finally {
      await context.close();
    }
  });

  it('in Push, says beside the sign-in that the registry refused the password, and pushes once it is right', async () => {
    const { context, page } = await newPage(browser);
    const host = basic.host;
    try {
      await page.goto(`${relayServer.url}/`);
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      await page.locator('input[type="file"]').setInputFiles(tarPath);
      await page.getByLabel('Push to').fill(`${host}/private/pushed:2`);
      const panel = page.locator('details.credentials');
      await panel.locator('summary', { hasText: `Sign in to ${host}` }).click();
      await typeInto(page, 'Username', USER);
      await typeInto(page, 'Password', 'wrong');
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await panel.getByText(`${host} refused the password or token for ${USER}`).waitFor({ timeout: 30_000 });
      assert.equal(await panel.locator('summary', { hasText: 'Signed in to' }).count(), 0);

      await page.getByLabel('Password').fill(PASSWORD);
      await panel.getByRole('button', { name: 'Sign in' }).click();
      await panel.locator('summary', { hasText: `Signed in to ${host} as ${USER}` }).waitFor();
      await page.getByRole('button', { name: 'Push', exact: true }).last().click();
      await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 60_000 });
      await panel.locator('summary', { hasText: `Signed in to ${host} as ${USER}` }).waitFor();
    } finally {
      await context.close();
    }
  });
});
