/**
 * What the page says when something goes wrong, and where it says requests go, in real Chromium: the relay's
 * own refusals (as `npm start` runs it), registries that cannot be reached in each way a person meets, a
 * layer whose own tar is broken, Chinese throughout, and what `npm start` prints and serves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { answerPreflights, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, pushIndex, smallLayers, type PushedImage } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { pushBlob, pushManifest, startRegistry, type Registry } from '../support/registry.ts';
import { relayConfigFromEnv } from '../../src/relay/config.ts';
import { startServer, type RunningServer } from '../../src/relay/serve.ts';
import { ROOT, buildApp, launchBrowser, newPage, serveStatic, type StaticServer } from './harness.ts';

let registry: Registry;
let small: PushedImage;
let noCors: Registry;
let privateRegistry: Registry;
let privateFront: FaultProxy;
let build: { dir: string; remove(): void };
let server: StaticServer;
let relayServer: RunningServer;
let browser: Browser;
/** A loopback port nothing listens on. */
let closedPort: number;
/** The no-CORS registry by a name that resolves to loopback (the relay speaks https to it), if this machine has one. */
let plainByName: string | undefined;

/** A port that was free a moment ago and is closed now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** An image whose one layer is gzip of bytes that are no tar at all; its digest and diff_id are right. */
async function pushMalformed(target: Registry): Promise<string> {
  const repo = 'broken/tar';
  const notTar = Buffer.from('this is not a tar archive\n'.repeat(200));
  const layer = gzipSync(notTar);
  const diffId = `sha256:${createHash('sha256').update(notTar).digest('hex')}`;
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }),
  );
  const configBlob = await pushBlob(target, repo, config);
  const layerBlob = await pushBlob(target, repo, layer);
  await pushManifest(target, repo, 'v1', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerBlob }],
  });
  return `${target.host}/${repo}:v1`;
}

/** A two-platform index, as most public images are. */
async function pushMulti(target: Registry): Promise<void> {
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ];
  const images = [];
  for (const platform of platforms)
    images.push({
      image: await pushImage(target, 'multi/app', null, { format: 'oci', platform, layers: smallLayers('gzip') }),
    });
  await pushIndex(target, 'multi/app', 'v1', images, { format: 'oci' });
}

/** The alert's text once it contains `expected`. */
async function alertSaying(page: Page, expected: string | RegExp): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.getByText(expected).first().waitFor({ timeout: 20_000 });
  return (await alert.innerText()).replace(/\s+/g, ' ');
}

async function typeImage(page: Page, image: string, label = 'Image'): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(image);
}

/** Three English words in a row, outside the parts marked as English and outside quoted input. */
const ENGLISH_SENTENCE = /[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}/;

async function textOutsideEnglish(page: Page, selector: string): Promise<string> {
  return page.locator(selector).evaluate((root) => {
    const clone = root.cloneNode(true) as HTMLElement;
    for (const english of clone.querySelectorAll('[lang="en"]')) english.remove();
    // A closed <details> still holds its text: read all of it.
    return (clone.textContent ?? '').replace(/“[^”]*”/g, '').replace(/\s+/g, ' ');
  });
}

/** This machine's own name when it resolves to loopback only (as /etc/hosts usually makes it), else undefined. */
async function loopbackName(): Promise<string | undefined> {
  const name = hostname().toLowerCase();
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name) || name === 'localhost') return undefined;
  const addresses = await lookup(name, { all: true }).catch(() => []);
  return addresses.length > 0 && addresses.every((a) => a.address.startsWith('127.')) ? name : undefined;
}

before(async () => {
  [registry, noCors, privateRegistry, build, browser, closedPort] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry(),
    startRegistry({ cors: true, auth: { htpasswd: { username: 'alice', password: 'secret' } } }),
    buildApp(),
    launchBrowser(),
    freePort(),
  ]);
  [small] = await Promise.all([
    pushImage(registry, 'small/docker', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(noCors, 'hidden/app', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
    pushMalformed(registry),
    pushMulti(registry),
  ]);
  privateFront = await startFaultProxy(privateRegistry.url, answerPreflights);
  server = await serveStatic(build.dir);
  server.config = {};
  const registryPort = registry.host.split(':')[1];
  // Loopback by IP is plain HTTP to the relay, as to the engine; a name that resolves to loopback is not.
  plainByName = await loopbackName().then((name) => name && `${name}:${noCors.host.split(':')[1]}`);
  // As `npm start` runs it, with registries on its allowlist in every state but the one that works.
  relayServer = await startServer({
    config: relayConfigFromEnv({
      // registry.host (127.0.0.1:P) is not listed: host-not-allowed.
      RELAY_ALLOW: [
        `localhost:${registryPort}`, // listed but private: private-address
        ...(plainByName ? [plainByName] : []), // private allowed, but spoken to in https: it is plain HTTP
        `127.0.0.1:${closedPort}`,
        'nosuch-registry.invalid',
      ].join(','),
      RELAY_ALLOW_PRIVATE: [...(plainByName ? [plainByName] : []), `127.0.0.1:${closedPort}`].join(','),
      RELAY_PLAIN_HTTP: `127.0.0.1:${closedPort}`,
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
    privateFront?.stop(),
    registry?.stop(),
    noCors?.stop(),
    privateRegistry?.stop(),
  ]);
  build?.remove();
});

describe('messages', () => {
  it("tells the relay's own refusals apart from the registry's, with the relay setting that fixes each", async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      const relay = `${relayServer.url}/relay`;
      await typeImage(page, `${registry.host}/small/docker:v1`);
      let text = await alertSaying(page, 'is not on the relay’s allowlist');
      assert.match(text, new RegExp(`The relay at ${relay} refused to contact ${registry.host}`));
      assert.match(text, new RegExp(`add ${registry.host} to RELAY_ALLOW\\.`));
      assert.match(text, /clear Relay URL in Settings/);
      assert.doesNotMatch(text, /does not let this account|The registry knows you|answered with an error/);

      const local = `localhost:${registry.host.split(':')[1]}`;
      await typeImage(page, `${local}/small/docker:v1`);
      text = await alertSaying(page, 'private, loopback or link-local');
      assert.match(text, new RegExp(`add ${local} to RELAY_ALLOW_PRIVATE`));
      assert.match(text, /RELAY_PLAIN_HTTP/);
    } finally {
      await context.close();
    }
  });

  it('tells an unknown name, a closed port, HTTPS to a plain-HTTP registry and a missing image apart', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${relayServer.url}/`);
      await typeImage(page, 'nosuch-registry.invalid/team/app:v1');
      let text = await alertSaying(page, 'could not find nosuch-registry.invalid');
      assert.match(text, /DNS/);

      await typeImage(page, `127.0.0.1:${closedPort}/team/app:v1`);
      text = await alertSaying(page, `127.0.0.1:${closedPort} refused the connection`);
      assert.match(text, /nothing is listening on that port, or the registry is down/);

      if (plainByName) {
        await typeImage(page, `${plainByName}/hidden/app:v1`);
        text = await alertSaying(page, 'did not answer in HTTPS');
        assert.match(text, new RegExp(`add ${plainByName} to RELAY_PLAIN_HTTP`));
        assert.doesNotMatch(text, /answered with an error/);
      } else {
        console.log('# no non-localhost name resolves to loopback here: the HTTPS-to-plain-HTTP case is not shown');
      }
    } finally {
      await context.close();
    }

    const direct = await newPage(browser);
    try {
      await direct.page.goto(server.url);
      await typeImage(direct.page, `${registry.host}/nothing/here:v1`);
      const text = await alertSaying(direct.page, 'The registry has no such image');
      assert.doesNotMatch(text, /answered with an error|pull access denied/);
    } finally {
      await direct.context.close();
    }
  });

  it('says what docker pull says when Docker Hub answers a name that may not exist', async () => {
    // The Hub mirror setting sends docker.io names to a registry that, like Docker Hub, wants a login for them.
    server.config = { dockerHubMirror: privateFront.host };
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeImage(page, 'nosuchuser/nope');
      const text = await alertSaying(page, 'pull access denied');
      assert.match(
        text,
        /pull access denied for nosuchuser\/nope, repository does not exist or may require 'docker login'/,
      );
      assert.match(text, /Check the spelling/);
    } finally {
      server.config = {};
      await context.close();
    }
  });

  it('says a registry that cannot be reached may be down, not only refusing pages (CORS)', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeImage(page, `127.0.0.1:${closedPort}/team/app:v1`);
      const text = await alertSaying(page, 'could not reach the registry');
      assert.match(text, /down or cannot be reached from here/);
      assert.match(text, /CORS/);
      // Not loopback, with a port: the page spoke https to it, which a plain-HTTP registry does not answer.
      await typeImage(page, `skiff.test:${registry.host.split(':')[1]}/small/docker:v1`);
      const tls = await alertSaying(page, 'spoke HTTPS to skiff.test');
      assert.match(tls, /Registries over plain HTTP/);
    } finally {
      await context.close();
    }
  });

  it('does not blame tampering for a layer whose checksum matched but whose tar is broken', async () => {
    // Layers are inflated, so their tar is read, in the uncompressed mode (kept layers are docker load's to read).
    server.config = { layers: 'uncompressed' };
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      await typeImage(page, `${registry.host}/broken/tar:v1`);
      await page.locator('section.details[aria-busy="false"]').waitFor();
      await page.getByRole('button', { name: 'Download', exact: true }).click();
      const text = await alertSaying(page, 'arrived intact');
      assert.match(text, /tar archive inside it is malformed/);
      assert.doesNotMatch(text, /changing the data|did not match its checksum/);
    } finally {
      server.config = {};
      await context.close();
    }
  });

  it('says in the footer which way requests go: straight to registries, or through the relay', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(server.url);
      const footer = page.getByTestId('request-path');
      assert.match(await footer.innerText(), /talks to each registry directly/);
      assert.doesNotMatch(await footer.innerText(), /relay at/);
      await page.goto(`${relayServer.url}/`);
      const relayed = await footer.innerText();
      assert.match(relayed, new RegExp(`credentials included — going through the relay at ${relayServer.url}/relay`));
      assert.match(relayed, /run by the host of this page/);
    } finally {
      await context.close();
    }
  });

  it('speaks Chinese in validation, the alert and its details, and retells the alert on a language switch', async () => {
    const { context, page } = await newPage(browser, { locale: 'zh-CN' });
    try {
      await page.goto(server.url);
      const help = '#image-help';
      for (const [input, expected] of [
        ['Nginx:latest', '只有镜像仓库的主机名可以用大写字母'],
        ['nginx@sha256:abc', '摘要 “sha256:abc” 无效'],
        ['https://ghcr.io/x', '镜像名称不是网址'],
        ['x:-a', '标签 “-a” 无效'],
      ] as const) {
        await typeImage(page, input, '镜像');
        await page.locator(help, { hasText: expected }).waitFor();
        const text = await textOutsideEnglish(page, help);
        assert.doesNotMatch(text, ENGLISH_SENTENCE, text);
      }

      await typeImage(page, `127.0.0.1:${closedPort}/team/app:v1`, '镜像');
      await alertSaying(page, '浏览器无法连接到');
      await page.getByRole('alert').getByText('详细信息').click();
      const alertText = await textOutsideEnglish(page, '[role="alert"]');
      assert.doesNotMatch(alertText, ENGLISH_SENTENCE, alertText);
      assert.match(alertText, /网络请求失败/);
      // Full-width punctuation next to Chinese text.
      assert.doesNotMatch(alertText, /[\u4e00-\u9fff][:;,()]|[:;,(][\u4e00-\u9fff]/, alertText);

      await page.getByLabel('语言').selectOption('en');
      await alertSaying(page, 'could not reach the registry');
      assert.doesNotMatch(await page.getByRole('alert').innerText(), /[\u4e00-\u9fff]/);
      await page.getByLabel('Language').selectOption('zh');
      await alertSaying(page, '浏览器无法连接到');

      // A validation message inside the alert (a link with a bad name) is told in Chinese too.
      await page.goto(`${server.url}?image=${encodeURIComponent('Bad/Name')}`);
      await page.locator(help, { hasText: '大写字母' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('keeps the layout still while a multi-platform image resolves, on a phone', async () => {
    const { context, page } = await newPage(browser, { width: 412, height: 823 });
    try {
      await page.addInitScript(() => {
        const shifts: number[] = [];
        (window as unknown as { shifts: number[] }).shifts = shifts;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[])
            if (!entry.hadRecentInput) shifts.push(entry.value);
        }).observe({ type: 'layout-shift', buffered: true });
      });
      await page.goto(`${server.url}?image=${encodeURIComponent(`${registry.host}/multi/app:v1`)}`);
      await page.locator('section.details[aria-busy="false"]').waitFor();
      await page.getByLabel('Platform').locator('option', { hasText: 'linux/arm64' }).waitFor({ state: 'attached' });
      await page.waitForTimeout(500);
      const shifts = await page.evaluate(() => (window as unknown as { shifts: number[] }).shifts);
      const cls = shifts.reduce((a, b) => a + b, 0);
      console.log(`# cumulative layout shift ${cls.toFixed(3)} (${shifts.length} shifts)`);
      assert.ok(cls < 0.1, `cumulative layout shift ${cls}`);
    } finally {
      await context.close();
    }
  });
});

describe('npm start', () => {
  it('builds without a warning block before the address, even when a plugin takes most of the build', async () => {
    // `npm start` is `vite build` with this project's config, then the server. On a busy machine the build's
    // plugins took most of its time and rolldown printed a yellow [PLUGIN_TIMINGS] block a newcomer read as
    // trouble; a plugin that takes 1.5 s stands in for the busy machine.
    const scratch = scratchDir('slow-build');
    try {
      const config = join(scratch.path, 'vite.config.mts');
      writeFileSync(
        config,
        `import project from ${JSON.stringify(join(ROOT, 'vite.config.ts'))};
const slow = { name: 'slow', transform(code, id) {
  if (id.endsWith('/src/app/main.ts')) { const start = Date.now(); while (Date.now() - start < 1500); }
  return null;
} };
export default { ...project, plugins: [...project.plugins, slow] };
`,
      );
      const { stdout, stderr } = await runCommand(
        join(ROOT, 'node_modules/.bin/vite'),
        ['build', '--config', config, '--outDir', join(scratch.path, 'dist'), '--emptyOutDir'],
        { cwd: ROOT, timeoutMs: 120_000 },
      );
      const output = stdout + stderr;
      assert.match(output, /built in/, output);
      assert.doesNotMatch(output, /PLUGIN_TIMINGS|callbacks ran for/, output);
      assert.ok(!output.includes('\u001b[33m'), 'no yellow warning in the build output');
    } finally {
      scratch.remove();
    }
  });

  it('ends by saying which address to open, and serves the app compressed but relayed bodies as they are', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/relay/serve.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        RELAY_DIST: build.dir,
        RELAY_ALLOW: registry.host,
        RELAY_ALLOW_PRIVATE: registry.host,
        RELAY_PLAIN_HTTP: registry.host,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no address said: ${output}`)), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /\nopen (http:\/\/127\.0\.0\.1:\d+\/) in your browser\n$/.exec(`\n${output}`);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      const index = readFileSync(join(build.dir, 'index.html'));
      // Node's fetch decodes by itself; node:http shows the bytes as sent.
      const raw = async (path: string, encoding: string) => {
        return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
          request(new URL(path, url), { headers: { 'accept-encoding': encoding } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          })
            .on('error', reject)
            .end();
        });
      };
      const asBr = await raw('/', 'gzip, deflate, br');
      assert.equal(asBr.headers['content-encoding'], 'br');
      assert.deepEqual(brotliDecompressSync(asBr.body), index);
      assert.ok(asBr.body.byteLength < index.byteLength / 2, 'html compresses');
      const asGzip = await raw('/', 'gzip');
      assert.equal(asGzip.headers['content-encoding'], 'gzip');
      assert.deepEqual(gunzipSync(asGzip.body), index);
      const plain = await raw('/', 'identity');
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.deepEqual(plain.body, index);
      const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(index.toString())?.[1];
      assert.ok(script, 'index.html names its script');
      assert.equal((await raw(`/${script}`, 'br')).headers['content-encoding'], 'br');
      // A registry's blob through the relay: its bytes are what the digest covers, never re-encoded.
      const config = small.configDigest;
      const relayed = await raw(`/relay/${registry.host}/v2/small/docker/blobs/${config}`, 'gzip, br');
      assert.equal(relayed.headers['content-encoding'], undefined);
      assert.equal(`sha256:${createHash('sha256').update(relayed.body).digest('hex')}`, config);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
