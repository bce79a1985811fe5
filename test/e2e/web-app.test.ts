/**
 * The web app as a person uses it, in real Chromium: the built dist/ served from a sub-path, real
 * registries (with CORS headers, as a browser needs), real test images, and the saved files checked by
 * `docker load` (a private dockerd) and `skopeo inspect`.
 *
 * SKIFF_SCREENSHOTS=docs/screenshots also writes screenshots of the main states there.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDockerd, type Dockerd, DOCKER_CLI } from '../support/dockerd.ts';
import { answerPreflights, fault, once, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { prose, pushFixtures, smallLayers, type Fixtures } from '../support/images.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { pushImage } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { skopeoInspectArchive } from '../support/skopeo.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { startServer, type RunningServer } from '../../src/relay/serve.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const SHOTS = process.env.SKIFF_SCREENSHOTS ? resolvePath(ROOT, process.env.SKIFF_SCREENSHOTS) : undefined;
const USER = 'alice';
const PASSWORD = 'correct horse';

let registry: Registry;
let fixtures: Fixtures;
let privateRegistry: Registry;
let privateFront: FaultProxy;
let stallFront: FaultProxy;
let noCors: Registry;
let dockerd: Dockerd;
let build: { dir: string; remove(): void };
let server: StaticServer;
let relayServer: RunningServer;
let browser: Browser;
const scratch = scratchDir('e2e');

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function downloadTo(page: Page, click: () => Promise<void>, name: string): Promise<string> {
  const downloading = page.waitForEvent('download');
  await click();
  const download = await downloading;
  const path = join(scratch.path, name);
  await download.saveAs(path);
  assert.equal(await download.failure(), null);
  return path;
}

before(async () => {
  const started = performance.now();
  [registry, privateRegistry, noCors, dockerd, build, browser] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry({ cors: true, auth: { htpasswd: { username: USER, password: PASSWORD } } }),
    startRegistry(),
    startDockerd(),
    buildApp(),
    launchBrowser(),
  ]);
  [fixtures] = await Promise.all([
    pushFixtures(registry),
    pushImage(privateRegistry, 'team/app', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(noCors, 'hidden/app', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
  ]);
  privateFront = await startFaultProxy(privateRegistry.url, answerPreflights);
  stallFront = await startFaultProxy(registry.url);
  server = await serveStatic(build.dir);
  server.config = {};
  // `npm start`'s server: the app at /, the relay at /relay/, config.json pointing the app at it.
  const hosts = [noCors.host, privateRegistry.host].join(',');
  relayServer = await startServer({
    config: relayConfigFromEnv({ RELAY_ALLOW: hosts, RELAY_ALLOW_PRIVATE: hosts, RELAY_PLAIN_HTTP: hosts }),
    distDir: build.dir,
    port: 0,
    log: () => {},
  });
  console.log(`# set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

after(async () => {
  await browser?.close();
  await Promise.all([
    server?.stop(),
    relayServer?.close(),
    privateFront?.stop(),
    stallFront?.stop(),
    registry?.stop(),
    privateRegistry?.stop(),
    noCors?.stop(),
    dockerd?.stop(),
  ]);
  build?.remove();
  scratch.remove();
});

describe('web app', () => {
  it('pulls linux/arm64 of a multi-platform index into a tar that docker load reads', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(server.url);
      const image = `${registry.host}/multi/app:v1`;
      await page.getByLabel('Image', { exact: true }).fill(image);
      // Resolving starts by itself; the platform list carries each platform's download size.
      const platform = page.getByLabel('Platform');
      await waitResolved(page, 'linux/amd64');
      // The sizes come after the resolve (one request each): wait for the last one.
      await platform.locator('option').nth(2).filter({ hasText: / — / }).waitFor({ state: 'attached' });
      const options = await platform.locator('option').allTextContents();
      assert.deepEqual(
        options.map((o) => o.split(' — ')[0]),
        ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'Several platforms…', 'All platforms (3)'],
      );
      for (const option of options.slice(0, 3)) assert.match(option, / — [\d.]+ kB$/);
      await platform.selectOption('linux/arm64');
      await waitResolved(page, 'linux/arm64');
      const arm64 = fixtures.multi.app.byPlatform['linux/arm64/v8'] ?? fixtures.multi.app.byPlatform['linux/arm64']!;
      await page.getByText(arm64.configDigest).waitFor();
      // Config and layers as the registry states them, and the tag list.
      await page.getByText('PLATFORM=linux/arm64/v8').waitFor();
      for (const layer of arm64.layers) await page.getByTitle(layer.digest).first().waitFor();
      await page.getByRole('button', { name: 'Use tag v1' }).waitFor();
      await shot(page, 'resolved-1280');

      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'arm64.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      // The whole file is hashed only when the Settings ask for it (a full extra pass).
      assert.equal(await page.getByTestId('result-sha256').count(), 0);
      assert.equal(
        await page.getByTestId('result-file').textContent(),
        `127.0.0.1_${registry.host.split(':')[1]}_multi_app_v1_linux-arm64.tar`,
      );
      await page.getByText(`docker load -i 127.0.0.1_`).waitFor();
      await page.getByText(`podman load -i 127.0.0.1_`).waitFor();
      await shot(page, 'done-1280');
      // Hashing ran on a second thread, in the engine's sha256 worker.
      assert.ok(
        page.workers().some((w) => /sha256\.worker/.test(w.url())),
        'the sha256 worker runs',
      );

      const inspected = await skopeoInspectArchive(file);
      assert.equal(inspected.Architecture, 'arm64');
      const loaded = await dockerd.load(file);
      assert.match(loaded.stdout, new RegExp(`Loaded image: ${image.replace(/[.]/g, '\\.')}`));
      const docker = await dockerd.inspect(image);
      assert.equal(docker.Id, arm64.configDigest);
      assert.equal(docker.Architecture, 'arm64');
      // The name is remembered for next time (names only).
      const recent = await page.evaluate(() => localStorage.getItem('skiff.recent'));
      assert.deepEqual(JSON.parse(recent ?? '[]'), [image]);
      assert.deepEqual(problems.errors, []);
    } finally {
      await context.close();
    }
  });

  it('validates as you type with the engine’s message, and Enter downloads', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(server.url);
      const field = page.getByLabel('Image', { exact: true });
      await field.fill('Nginx:latest');
      await page.getByText('uppercase letters are only allowed in the registry host').waitFor();
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByRole('button', { name: 'Download', exact: true }).isDisabled(), true);
      await field.fill(`${registry.host}/small/oci:v1`);
      assert.equal(await field.getAttribute('aria-invalid'), 'false');
      // Enter right away: the download waits for the resolve it needs.
      const file = await downloadTo(page, () => field.press('Enter'), 'enter.tar');
      const docker = await dockerd.load(file);
      assert.match(docker.stdout, /small\/oci:v1/);
      assert.equal((await dockerd.inspect(`${registry.host}/small/oci:v1`)).Id, fixtures.small.oci.configDigest);
      assert.deepEqual(problems.errors, []);
    } finally {
      await context.close();
    }
  });

  it('puts several images into one archive, shared layers once', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      for (const name of ['shared/a', 'shared/b']) {
        await page.getByLabel('Image', { exact: true }).fill(`${registry.host}/${name}:v1`);
        await page.getByRole('button', { name: 'Add to archive' }).click();
        await page
          .getByRole('listitem')
          .filter({ hasText: `${registry.host}/${name}:v1` })
          .waitFor();
      }
      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download 2 images' }).click(),
        'shared.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const { stdout } = await runCommand('tar', ['-tf', file]);
      const blobs = stdout
        .split('\n')
        .filter((l) => l.startsWith('blobs/sha256/') && l.length > 'blobs/sha256/'.length);
      // 3 + 3 layers with 2 shared → 4 layers, 2 configs, 2 manifests.
      assert.equal(blobs.length, 8, stdout);
      await dockerd.load(file);
      assert.equal((await dockerd.inspect(`${registry.host}/shared/a:v1`)).Id, fixtures.shared.a.configDigest);
      assert.equal((await dockerd.inspect(`${registry.host}/shared/b:v1`)).Id, fixtures.shared.b.configDigest);
    } finally {
      await context.close();
    }
  });

  it('cancel stops the network and the file, and claims nothing', async () => {
    const layer = fixtures.small.docker.layers[1]!;
    // The big layer's body stops after a few bytes and the connection stays open: a download in progress.
    const tail = `bytes=${layer.size - 8}-${layer.size - 1}`;
    stallFront.setPlan(
      once((r) => r.method === 'GET' && r.path.includes(layer.digest) && r.range !== tail, fault.stall(200)),
    );
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).fill(`${stallFront.host}/small/docker:v1`);
      await waitResolved(page);
      const downloading = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      // Layers download in parallel: more than one row may say so.
      await page.getByRole('cell', { name: 'downloading' }).first().waitFor();
      await shot(page, 'progress-1280');
      const download = await downloading;
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('alert').getByText('Cancelled.').waitFor();
      assert.notEqual(await download.failure(), null, 'the browser must not see a finished file');
      assert.equal(await page.getByRole('heading', { name: 'Done' }).count(), 0);
      assert.equal(await page.getByTestId('result-sha256').count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
      // The stalled request was abandoned by the page.
      const stalled = stallFront.requests.find((r) => r.faults.includes('stall'));
      assert.ok(stalled, 'the stall fault fired');
    } finally {
      stallFront.setPlan(undefined);
      await context.close();
    }
  });

  it('says when credentials are wrong, and pulls with the right ones', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      const image = `${privateFront.host}/team/app:v1`;
      await page.getByLabel('Image', { exact: true }).fill(image);
      await page.getByRole('alert').getByText('needs you to sign in').waitFor();
      await page.getByLabel('Username').fill(USER);
      await page.getByLabel('Password').fill('wrong password');
      await page.getByLabel('Password').press('Enter');
      await page.getByRole('alert').getByText('The registry refused these credentials. Check').waitFor();
      await page.getByText(`Sent only to ${privateFront.host} and the token service it names`).waitFor();
      await shot(page, 'wrong-password-1280');
      // Credentials never reach the address bar or local storage unless asked to.
      assert.doesNotMatch(page.url(), /alice|wrong/);
      assert.equal(await page.evaluate(() => localStorage.getItem('skiff.credentials')), null);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await waitResolved(page);
      assert.equal((await page.getByRole('alert').textContent())?.trim(), '');
      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'private.tar',
      );
      await dockerd.load(file);
      await dockerd.inspect(image);
      await page.getByLabel('Remember on this device').check();
      const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('skiff.credentials'))) ?? '{}');
      assert.deepEqual(stored, { [privateFront.host]: { username: USER, password: PASSWORD } });
    } finally {
      await context.close();
    }
  });

  it('explains a registry that refuses the browser (CORS) and points to the relay', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).fill(`${noCors.host}/hidden/app:v1`);
      const alert = page.getByRole('alert');
      await alert.getByText('it does not let web pages call it').waitFor({ timeout: 15_000 });
      await alert.getByText('send no CORS headers').waitFor();
      await alert.getByText('Settings → Relay URL').waitFor();
    } finally {
      await context.close();
    }
  });

  it('through the relay (npm start), reaches registries without CORS, credentials included', async () => {
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      const image = `${noCors.host}/hidden/app:v1`;
      await page.getByLabel('Image', { exact: true }).fill(image);
      await waitResolved(page);
      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'relayed.tar',
      );
      await dockerd.load(file);
      await dockerd.inspect(image);

      const secret = `${privateRegistry.host}/team/app:v1`;
      await page.getByLabel('Image', { exact: true }).fill(secret);
      // The relay is this page's own origin: its 401 must not bring up the browser's login dialog.
      await page.getByRole('alert').getByText('needs you to sign in').waitFor();
      await page.getByLabel('Username').fill(USER);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByLabel('Password').press('Enter');
      await page.getByText(`passing through the relay at ${relayServer.url}/relay`).waitFor();
      await waitResolved(page);
      const privateFile = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'relayed-private.tar',
      );
      assert.equal((await skopeoInspectArchive(privateFile)).Architecture, 'amd64');
      assert.deepEqual(
        problems.errors.filter((e) => !/status of 401/.test(e)),
        [],
      );
    } finally {
      await context.close();
    }
  });

  it('deep links fill the form and never carry credentials', async () => {
    const { context, page } = await newPage(browser);
    try {
      const image = `${registry.host}/multi/app:v1`;
      await page.goto(`${server.url}?image=${encodeURIComponent(image)}&platform=linux/arm/v7`);
      assert.equal(await page.getByLabel('Image', { exact: true }).inputValue(), image);
      await waitResolved(page, 'linux/arm/v7');
      assert.equal(await page.getByLabel('Platform').inputValue(), 'linux/arm/v7');
      await page.getByLabel('Platform').selectOption('linux/arm64');
      await waitResolved(page, 'linux/arm64');
      await page.getByText('Private registry').click();
      await page.getByLabel('Username').fill('someone');
      await page.getByLabel('Password').fill('secret-token');
      const url = new URL(page.url());
      assert.deepEqual([...url.searchParams.keys()].sort(), ['image', 'platform']);
      assert.equal(url.searchParams.get('platform'), 'linux/arm64');
      assert.doesNotMatch(page.url(), /someone|secret/);

      // A platform the index lacks: the alert lists the ones it has, and picking one resolves it.
      await page.goto(`${server.url}?image=${encodeURIComponent(image)}&platform=linux/s390x`);
      const alert = page.getByRole('alert');
      await alert.getByText('Available: linux/amd64, linux/arm64, linux/arm/v7').waitFor();
      await alert.getByRole('button', { name: 'linux/arm/v7' }).click();
      await waitResolved(page, 'linux/arm/v7');
      assert.equal((await alert.textContent())?.trim(), '');
    } finally {
      await context.close();
    }
  });

  it('renders in Chinese when the browser asks for it, and switches back', async () => {
    const { context, page, problems } = await newPage(browser, { locale: 'zh-CN' });
    try {
      await page.goto(`${server.url}?image=${encodeURIComponent(`${registry.host}/small/docker:v1`)}`);
      await page.getByLabel('镜像', { exact: true }).waitFor();
      await page.getByRole('button', { name: '下载', exact: true }).waitFor();
      await page.getByRole('heading', { name: '镜像信息' }).waitFor();
      await waitResolved(page);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      await shot(page, 'zh-1280');
      await page.getByLabel('语言').selectOption('en');
      await page.getByRole('button', { name: 'Download', exact: true }).waitFor();
      assert.deepEqual(problems.errors, []);
    } finally {
      await context.close();
    }
  });

  it('saves an offline kit: tars, SHA256SUMS and load scripts that verify and load', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      for (const name of ['small/docker:v1', 'multi/list:v1']) {
        await page.getByLabel('Image', { exact: true }).fill(`${registry.host}/${name}`);
        await page.getByRole('button', { name: 'Add to archive' }).click();
      }
      await page.getByLabel('.zip offline kit').check();
      const zip = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download 2 images' }).click(),
        'kit.zip',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(await page.getByTestId('result-sha256').textContent(), sha256File(zip));
      const dir = join(scratch.path, 'kit');
      await runCommand('unzip', ['-q', zip, '-d', dir]);
      const port = registry.host.split(':')[1];
      const tars = [`127.0.0.1_${port}_small_docker_v1.tar`, `127.0.0.1_${port}_multi_list_v1.tar`];
      assert.deepEqual(
        readdirSync(dir).sort(),
        [...tars, 'README.txt', 'SHA256SUMS', 'images.txt', 'load.ps1', 'load.sh'].sort(),
      );
      // The list the kit holds, as `npm run pull -- -f` reads it.
      assert.match(readFileSync(join(dir, 'images.txt'), 'utf8'), /\/small\/docker:v1 --platform linux\/amd64\n/);
      assert.ok(statSync(join(dir, 'load.sh')).mode & 0o100, 'load.sh is executable');
      const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
      assert.equal(sums, tars.map((t) => `${sha256File(join(dir, t))}  ${t}\n`).join(''));
      // The script checks every tar, then loads each one (here into the test dockerd).
      const { stdout } = await runCommand('sh', [join(dir, 'load.sh')], {
        env: { ...dockerd.env, DOCKER: DOCKER_CLI },
      });
      assert.match(stdout, /: OK/);
      assert.match(stdout, /Loaded image: .*small\/docker:v1/);
      assert.match(stdout, /Loaded image: .*multi\/list:v1/);
      assert.equal((await dockerd.inspect(`${registry.host}/multi/list:v1`)).Architecture, 'amd64');
      // A tampered tar is refused before anything loads.
      writeFileSync(join(dir, tars[0]!), 'tampered');
      await assert.rejects(
        runCommand('sh', [join(dir, 'load.sh')], { env: { ...dockerd.env, DOCKER: DOCKER_CLI } }),
        /FAILED|did NOT match/,
      );
    } finally {
      await context.close();
    }
  });

  it('"Save to…" writes through the File System Access API', async () => {
    const { context, page } = await newPage(browser);
    try {
      // Headless Chromium refuses the real picker at once; hand the page a file in its private storage instead.
      await page.addInitScript(() => {
        window.showSaveFilePicker = async (options) => {
          const root = await navigator.storage.getDirectory();
          return root.getFileHandle(options?.suggestedName ?? 'picked.tar', { create: true });
        };
      });
      await page.goto(server.url);
      // Ask for the file's SHA-256, as a user does in the Settings.
      await page.getByRole('button', { name: 'Settings' }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.getByLabel('Compute the file’s SHA-256').check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await page.getByLabel('Image', { exact: true }).fill(`${registry.host}/codec/zstd:v1`);
      await waitResolved(page);
      await page.getByRole('button', { name: 'Save to…' }).click();
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const name = (await page.getByTestId('result-file').textContent())!;
      const base64 = await page.evaluate(async (fileName) => {
        const root = await navigator.storage.getDirectory();
        const file = await (await root.getFileHandle(fileName)).getFile();
        const bytes = new Uint8Array(await file.arrayBuffer());
        let binary = '';
        for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(binary);
      }, name);
      const path = join(scratch.path, 'picked.tar');
      writeFileSync(path, Buffer.from(base64, 'base64'));
      assert.equal(await page.getByTestId('result-sha256').textContent(), sha256File(path));
      // zstd layers were inflated (uncompressed mode), so even dockerd 20.10 loads them.
      await dockerd.load(path);
      assert.equal((await dockerd.inspect(`${registry.host}/codec/zstd:v1`)).Id, fixtures.codec.zstd.configDigest);
    } finally {
      await context.close();
    }
  });

  it('on a plain-HTTP page, saves through a Blob and says so; config.json sets the defaults', async () => {
    server.config = { outputName: 'from-config', layers: 'as-pulled', hashFile: true };
    const { context, page } = await newPage(browser);
    try {
      // skiff.test resolves to 127.0.0.1 but is not "potentially trustworthy": no service workers there.
      await page.goto(server.url.replace('127.0.0.1', 'skiff.test'));
      assert.equal(await page.evaluate(() => window.isSecureContext), false);
      await page.getByText('not served over HTTPS').waitFor();
      await page.getByText('Held in the browser until complete').waitFor();
      await page.getByLabel('Image', { exact: true }).fill(`${registry.host}/small/docker:v1`);
      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'blob.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(await page.getByTestId('result-file').textContent(), 'from-config.tar');
      assert.equal(await page.getByTestId('result-sha256').textContent(), sha256File(file));
      // as-pulled: the layer blobs are the registry's own, byte for byte.
      const { stdout } = await runCommand('tar', ['-tf', file]);
      for (const layer of fixtures.small.docker.layers)
        assert.ok(stdout.includes(`blobs/sha256/${layer.digest.slice(7)}`));
      await dockerd.load(file);

      // Settings: the host's defaults show, and a user's change wins over them.
      await page.getByRole('button', { name: 'Settings' }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.waitFor();
      await shot(page, 'settings-1280', false);
      assert.equal(await dialog.getByLabel('File name').inputValue(), 'from-config');
      assert.equal(await dialog.getByLabel('As pulled').isChecked(), true);
      await dialog.getByLabel('Relay URL').fill('not a url');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.getByText('Enter a full http:// or https:// address').waitFor();
      await dialog.getByLabel('Relay URL').fill('');
      await dialog.getByLabel('File name').fill('mine');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(JSON.parse((await page.evaluate(() => localStorage.getItem('skiff.settings'))) ?? '{}'), {
        outputName: 'mine',
      });
    } finally {
      server.config = {};
      await context.close();
    }
  });

  it('inflates an eStargz-like layer on DecompressionStream, pako after its first member: the CLI’s file, byte for byte', async () => {
    // Several gzip members, the size stated in the manifest: written inflated in uncompressed mode.
    const files = (name: string) => [
      { path: `${name}/text.txt`, content: prose(300_000, name) },
      { path: `${name}/zeros.bin`, content: { zeros: 200_000 } },
    ];
    const image = await pushImage(registry, 'codec/estargz', 'v1', {
      format: 'oci',
      layers: [{ compression: 'gzip', members: 3, statesSize: true, files: [...files('a'), ...files('b')] }],
    });
    server.config = { layers: 'uncompressed' };
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await page.getByLabel('Image', { exact: true }).fill(image.reference);
      await waitResolved(page);
      const file = await downloadTo(
        page,
        () => page.getByRole('button', { name: 'Download', exact: true }).click(),
        'estargz.tar',
      );
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      const cli = join(scratch.path, 'estargz-cli.tar');
      await pullToFile([image.reference], cli, { layers: 'uncompressed' });
      assert.equal(sha256File(file), sha256File(cli), 'the page’s file is the CLI’s (pako), byte for byte');
      const { stdout } = await runCommand('tar', ['-tf', file]);
      assert.ok(stdout.includes(`blobs/sha256/${image.diffIds[0]!.slice(7)}`), 'the layer is stored inflated');
      await dockerd.load(file);
      assert.deepEqual((await dockerd.inspect(image.reference)).RootFS.Layers, image.diffIds);
    } finally {
      server.config = {};
      await context.close();
    }
  });

  it('fits a phone screen', async () => {
    const { context, page } = await newPage(browser, { width: 390, height: 844 });
    try {
      await page.goto(
        `${server.url}?image=${encodeURIComponent(`${registry.host}/multi/app:v1`)}&platform=linux/arm64`,
      );
      await waitResolved(page, 'linux/arm64');
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      await shot(page, 'resolved-phone');
      await downloadTo(page, () => page.getByRole('button', { name: 'Download', exact: true }).click(), 'phone.tar');
      await page.getByRole('heading', { name: 'Done' }).waitFor();
      await shot(page, 'done-phone');
    } finally {
      await context.close();
    }
  });
});
