/**
 * Hostile and broken input, seen from the page: the built app in real Chromium, real registries (with
 * CORS), a fault proxy in front that answers crafted manifests, tag lists, indexes, challenges and tokens.
 * Every case must end with a message in the `role="alert"` region — never script that runs, never a file
 * claimed complete (no "Done" panel; a download the browser started must end as failed), never a secret
 * kept where it was not asked to be.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { always, answerPreflights, fault, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, smallLayers, type PushedImage } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { buildApp, launchBrowser, newPage, serveStatic, waitResolved, type StaticServer } from './harness.ts';

const USER = 'mallory-admin';
/** Distinctive, so a substring search cannot miss it or hit something else. */
const PASSWORD = 'Pw-7f3k9-Zq81-xyzzy';

/** Each would run script if it reached the DOM as markup (or a link) instead of text, and the CSP let it. */
const XSS = {
  img: '<img src=x onerror="window.__pwned=1">',
  script: '<script>window.__pwned=1</script>',
  svg: '"><svg onload="window.__pwned=1">',
  alert: '<img src=x onerror=alert(document.domain)>',
  iframe: '<iframe src="javascript:alert(1)"></iframe>',
  js: 'javascript:window.__pwned=1',
};

let registry: Registry;
let privateRegistry: Registry;
let front: FaultProxy;
let privateFront: FaultProxy;
let silent: { host: string; requests: number; stop(): Promise<void> };
let evil: PushedImage;
let plain: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
let browser: Browser;

/** A registry that takes requests and never answers them (CORS preflights excepted, so the real request is sent). */
async function startSilentRegistry(): Promise<typeof silent> {
  let requests = 0;
  const srv: Server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Accept, Range',
        })
        .end();
      return;
    }
    requests++;
    req.resume(); // and never write anything back
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      }),
  };
}

before(async () => {
  const started = performance.now();
  [registry, privateRegistry, silent, build, browser] = await Promise.all([
    startRegistry({ cors: true }),
    startRegistry({ cors: true, auth: { htpasswd: { username: USER, password: PASSWORD } } }),
    startSilentRegistry(),
    buildApp(),
    launchBrowser(),
  ]);
  [evil, plain] = await Promise.all([
    pushImage(registry, 'evil/app', 'v1', {
      format: 'oci',
      layers: smallLayers('gzip'),
      config: {
        Env: [`A=${XSS.img}`, `B=${XSS.script}`, `C=${XSS.svg}`],
        Entrypoint: ['/bin/sh', '-c', XSS.img],
        Cmd: [XSS.script, XSS.svg],
        WorkingDir: XSS.iframe,
        User: XSS.alert,
        ExposedPorts: { [`80/tcp${XSS.img}`]: {} },
        Labels: {
          'org.opencontainers.image.url': XSS.js,
          'org.opencontainers.image.source': 'javascript:alert(1)//https://example.com',
          'org.opencontainers.image.description': XSS.iframe,
          [XSS.img]: XSS.svg,
          title: XSS.script,
        },
      },
      history: [
        { created_by: `/bin/sh -c #(nop) LABEL x=${XSS.alert}`, empty_layer: true },
        { created_by: `RUN echo ${XSS.script} # ${XSS.img}` },
        { created_by: `COPY ${XSS.svg} /`, comment: XSS.iframe },
      ],
    }),
    pushImage(registry, 'plain/app', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(privateRegistry, 'team/secret', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
  ]);
  [front, privateFront] = await Promise.all([
    startFaultProxy(registry.url, undefined, { cors: true }),
    startFaultProxy(privateRegistry.url, answerPreflights, { cors: true }),
  ]);
  server = await serveStatic(build.dir);
  server.config = {};
  console.log(`# set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

after(async () => {
  await browser?.close();
  await Promise.all([
    server?.stop(),
    front?.stop(),
    privateFront?.stop(),
    silent?.stop(),
    registry?.stop(),
    privateRegistry?.stop(),
  ]);
  build?.remove();
});

interface Watched {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  downloads: Download[];
  console: string[];
}

/** Records, from before the app's first script, elements that markup from data would bring. */
const WATCH_SCRIPT = `
window.__injected = [];
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));
(() => {
  const check = (node) => {
    // What the parser puts in from index.html is the page's own; the app and its data come after.
    if (!(node instanceof Element) || document.readyState === 'loading') return;
    for (const el of [node, ...node.querySelectorAll('*')]) {
      const tag = el.tagName.toLowerCase();
      // StreamSaver's own hidden frames (its mitm.html, then the download URL its service worker answers),
      // both in the page's streamsaver/ folder, are the page's, not data.
      const saver = new URL('streamsaver/', document.baseURI);
      if (tag === 'iframe' && el.hidden && el.src.startsWith(saver.href)) continue;
      const bad =
        ['script', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', 'base', 'style'].includes(tag) ||
        (tag === 'img' && el.getAttribute('src') === 'x') ||
        [...el.attributes].some((a) => /^on/i.test(a.name) || /^\\s*javascript:/i.test(a.value));
      if (bad) window.__injected.push(el.outerHTML.slice(0, 200));
    }
  };
  new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(check))).observe(document, { childList: true, subtree: true });
})();
`;

/**
 * A page that records dialogs (dismissed at once), downloads, every console message, and — from before the
 * app's first script — every element that appears carrying an `on…` attribute, a `javascript:` URL, or being a
 * script, frame, object, embed, svg or style element: markup that came from data, which the app never makes
 * itself (StreamSaver's hidden frame aside).
 */
async function watchedPage(): Promise<Watched> {
  const { context, page } = await newPage(browser);
  const dialogs: string[] = [];
  const downloads: Download[] = [];
  const consoleText: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss().catch(() => {});
  });
  page.on('download', (download) => downloads.push(download));
  page.on('console', (message) => consoleText.push(message.text()));
  page.on('pageerror', (error) => consoleText.push(String(error)));
  // A string, not a function: tsx would wrap the function's inner functions in a helper the page lacks.
  await page.addInitScript(WATCH_SCRIPT);
  return { context, page, dialogs, downloads, console: consoleText };
}

/** Nothing ran, nothing was injected: the page's own scripts are the only ones. */
async function assertNoScriptRan(w: Watched): Promise<void> {
  const state = await w.page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    injected: (window as unknown as { __injected: string[] }).__injected,
    violations: (window as unknown as { __violations: string[] }).__violations,
    scripts: [...document.scripts].map((s) => s.src),
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name)))
      .length,
    jsLinks: [...document.querySelectorAll('[href],[src],[action],[formaction]')].filter((el) =>
      ['href', 'src', 'action', 'formaction'].some((a) => /^\s*javascript:/i.test(el.getAttribute(a) ?? '')),
    ).length,
  }));
  assert.equal(state.pwned, undefined, 'window.__pwned was set: a payload ran');
  assert.deepEqual(state.injected, [], 'elements from data were injected');
  assert.deepEqual(state.violations, [], 'the Content-Security-Policy had to block something');
  assert.ok(
    state.scripts.every((src) => /\/assets\/[\w-]+\.js$/.test(src)),
    `unexpected script elements: ${state.scripts.join(', ')}`,
  );
  assert.equal(state.handlers, 0, 'inline event handler attributes in the DOM');
  assert.equal(state.jsLinks, 0, 'javascript: URLs in the DOM');
  assert.deepEqual(w.dialogs, [], 'a dialog was opened');
}

function imageUrl(image: string): string {
  return `${server.url}?image=${encodeURIComponent(image)}`;
}

/**
 * The failure is in the alert region, with `line` among its words; no result panel; every download the browser
 * started ended as failed, not as a finished file.
 */
async function expectAlert(w: Watched, line: string | RegExp, detail?: RegExp, timeout = 15_000): Promise<string> {
  const alert = w.page.getByRole('alert');
  await alert.getByText(line).first().waitFor({ timeout });
  const text = (await alert.textContent()) ?? '';
  if (detail) assert.match(text, detail);
  // A download that was going to start has had time to (the sink hands its first bytes over at once).
  await w.page.waitForTimeout(300);
  assert.equal(await w.page.getByRole('heading', { name: 'Done' }).count(), 0, 'no Done panel');
  assert.equal(await w.page.getByTestId('result-sha256').count(), 0, 'no result checksum');
  for (const download of w.downloads)
    assert.notEqual(await download.failure(), null, 'a started download must end as failed');
  await assertNoScriptRan(w);
  return text;
}

describe('hostile input in the page', () => {
  it('shows registry data containing HTML and script as text, and never runs it', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: evil.manifestMediaType,
          digest: evil.manifestDigest,
          size: evil.manifestBytes.byteLength,
          platform: { os: XSS.img, architecture: XSS.svg },
        },
        {
          mediaType: evil.manifestMediaType,
          digest: evil.manifestDigest,
          size: evil.manifestBytes.byteLength,
          platform: { os: 'linux', architecture: XSS.script },
        },
      ],
    });
    const mixed = JSON.stringify({
      ...JSON.parse(index),
      manifests: [
        ...JSON.parse(index).manifests,
        {
          mediaType: evil.manifestMediaType,
          digest: evil.manifestDigest,
          size: evil.manifestBytes.byteLength,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    // Tags the grammar forbids, as a hostile registry may list them anyway; an index whose platforms are markup.
    front.setPlan((r) => {
      if (r.method === 'OPTIONS') return undefined;
      if (r.path.startsWith('/v2/evil/app/tags/list')) {
        return fault.status(
          200,
          { 'Content-Type': 'application/json' },
          JSON.stringify({ name: 'evil/app', tags: ['v1', XSS.img, XSS.script, XSS.svg, XSS.js] }),
        );
      }
      if (r.path.startsWith('/v2/evil/app/manifests/index'))
        return fault.status(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, index);
      if (r.path.startsWith('/v2/evil/app/manifests/mixed'))
        return fault.status(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, mixed);
      return undefined;
    });
    const w = await watchedPage();
    try {
      await w.page.goto(imageUrl(`${front.host}/evil/app:v1`));
      await waitResolved(w.page);
      const details = w.page.locator('section.details');
      await details.getByRole('button', { name: `Use tag ${XSS.img}` }).waitFor();
      await details.locator('details.history summary').click();
      const shown = await details.innerText();
      for (const payload of [
        XSS.img,
        XSS.script,
        XSS.svg,
        XSS.alert,
        XSS.iframe,
        XSS.js,
        'javascript:alert(1)//https://example.com',
      ]) {
        assert.ok(shown.includes(payload), `shown literally: ${payload}`);
      }
      // Label values that look like URLs are not links.
      assert.equal(await details.locator('a').count(), 0, 'no links in the details');
      assert.equal(await details.locator('img, svg, script, iframe, object, embed').count(), 0);
      await assertNoScriptRan(w);

      // A hostile tag, clicked: the name it makes is refused by the reference grammar, as text.
      // (Its spaces make several words: the field offers to list them, which Enter would, each as its own row.)
      await details.getByRole('button', { name: `Use tag ${XSS.img}` }).click();
      assert.match((await w.page.locator('#image-help').textContent()) ?? '', /Press Enter to put these names/);
      assert.ok(((await w.page.locator('#image-help').textContent()) ?? '').trim().length > 0, 'a validation message');

      // An index whose platforms are markup: the alert names them, as text, and offers none of them as a
      // choice (the page could not ask for them again).
      await w.page.getByLabel('Image', { exact: true }).fill(`${front.host}/evil/app:index`);
      const alert = w.page.getByRole('alert');
      await alert.getByText('no build for that platform').waitFor();
      const listed = (await alert.textContent()) ?? '';
      assert.ok(listed.includes(`${XSS.img}/${XSS.svg}`) && listed.includes(`linux/${XSS.script}`), listed);
      assert.equal(await alert.getByRole('button').count(), 0, 'no unusable platform offered');
      await assertNoScriptRan(w);
      // Beside a usable one, the Platform list offers only that one.
      await w.page.getByLabel('Image', { exact: true }).fill(`${front.host}/evil/app:mixed`);
      await waitResolved(w.page);
      await w.page.getByLabel('Platform').waitFor();
      assert.deepEqual(
        (await w.page.getByLabel('Platform').locator('option').allTextContents()).map((o) => o.split(' — ')[0]),
        ['linux/amd64'],
      );

      // A registry error whose message is markup: shown in the technical detail, as text.
      front.setPlan(
        always(
          (r) => r.method !== 'OPTIONS' && r.path.includes('/manifests/'),
          fault.status(
            404,
            {},
            JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: `${XSS.img}${XSS.script}` }] }),
          ),
        ),
      );
      await w.page.getByLabel('Image', { exact: true }).fill(`${front.host}/evil/app:v2`);
      const text = await expectAlert(w, 'has no such image');
      assert.ok(text.includes(`${XSS.img}${XSS.script}`), `the registry's message, literally: ${text}`);
    } finally {
      front.setPlan(undefined);
      await w.context.close();
    }
  });

  it('shows a typed or linked name containing HTML as a validation message, as text', async () => {
    const w = await watchedPage();
    try {
      await w.page.goto(imageUrl(XSS.img));
      const field = w.page.getByLabel('Image', { exact: true });
      assert.equal(await field.inputValue(), XSS.img);
      // Several words are several names: Enter lists them, and each row says, as text, why it is no name.
      const help = w.page.locator('#image-help');
      assert.match((await help.textContent()) ?? '', /Press Enter to put these names/);
      await field.press('Enter');
      const list = w.page.locator('section[aria-labelledby="queue-title"]');
      await list.getByText('<img', { exact: false }).first().waitFor();
      assert.ok((await list.innerText()).includes('<img'), 'the word is shown literally');
      assert.equal(await list.locator('img, script, iframe, svg').count(), 0, 'no markup in the rows');
      await list.getByRole('button', { name: 'Clear' }).click();
      for (const payload of [XSS.script, XSS.svg.replace(/ /g, ''), '<img/src=x/onerror=alert(1)>', XSS.js]) {
        await field.fill(payload);
        await w.page.waitForFunction(() => document.querySelector('#image')?.getAttribute('aria-invalid') === 'true');
        assert.ok(((await help.textContent()) ?? '').trim().length > 0, `a message for ${payload}`);
      }
      assert.equal(await w.page.getByRole('button', { name: 'Download', exact: true }).isDisabled(), true);
      await assertNoScriptRan(w);
    } finally {
      await w.context.close();
    }
  });

  it('carries a Content-Security-Policy without inline script or eval, and Chromium enforces it', async () => {
    const html = readFileSync(join(build.dir, 'index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
    assert.ok(meta, 'dist/index.html has a CSP meta element');
    const directives = new Map(
      meta[1]!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...sources]) => [name!, sources]),
    );
    const scriptSrc = directives.get('script-src') ?? directives.get('default-src');
    assert.ok(scriptSrc, 'script-src (or default-src) is set');
    assert.deepEqual([...scriptSrc].sort(), ["'self'", "'wasm-unsafe-eval'"], `script-src: ${scriptSrc.join(' ')}`);
    for (const directive of ['script-src-elem', 'script-src-attr'])
      assert.equal(directives.has(directive), false, `${directive} would override script-src`);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.deepEqual(directives.get('base-uri'), ["'self'"]);
    // Every script of the page is a file; the meta comes before the first of them.
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline <script> in index.html');
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy precedes every script');
    const mitm = readFileSync(join(build.dir, 'streamsaver/mitm.html'), 'utf8');
    assert.match(mitm, /Content-Security-Policy" content="default-src 'none'; script-src 'self';/);

    const w = await watchedPage();
    try {
      // The app itself runs under the policy, a download included, without one violation.
      await w.page.goto(imageUrl(`${registry.host}/plain/app:v1`));
      await waitResolved(w.page);
      const downloading = w.page.waitForEvent('download');
      await w.page.getByRole('button', { name: 'Download', exact: true }).click();
      await w.page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(await (await downloading).failure(), null);
      await assertNoScriptRan(w);
      assert.deepEqual(
        w.console.filter((m) => /Content Security Policy/i.test(m)),
        [],
      );

      // Script that an injection would bring does not run, and the browser reports each attempt.
      const outcome = await w.page.evaluate(async () => {
        const win = window as unknown as Record<string, unknown>;
        const violations: string[] = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
        const script = document.createElement('script');
        script.textContent = 'window.__inline = 1';
        document.body.append(script);
        const button = document.createElement('button');
        button.setAttribute('onclick', 'window.__handler = 1');
        document.body.append(button);
        button.click();
        const link = document.createElement('a');
        link.href = 'javascript:window.__jsurl=1';
        document.body.append(link);
        link.click();
        // Run from a task of the page's own: DevTools lets code it evaluates itself call eval.
        const evalBlocked = await new Promise<boolean>((resolve) =>
          setTimeout(() => {
            try {
              (0, eval)('window.__eval = 1');
              resolve(false);
            } catch (error) {
              resolve(error instanceof EvalError);
            }
          }, 0),
        );
        setTimeout('window.__timer = 1' as unknown as () => void, 0);
        await new Promise((r) => setTimeout(r, 200));
        script.remove();
        button.remove();
        link.remove();
        return {
          inline: win.__inline,
          handler: win.__handler,
          jsurl: win.__jsurl,
          evaluated: win.__eval,
          timer: win.__timer,
          evalBlocked,
          violations,
        };
      });
      assert.deepEqual(
        {
          inline: outcome.inline,
          handler: outcome.handler,
          jsurl: outcome.jsurl,
          evaluated: outcome.evaluated,
          timer: outcome.timer,
        },
        { inline: undefined, handler: undefined, jsurl: undefined, evaluated: undefined, timer: undefined },
      );
      assert.equal(outcome.evalBlocked, true, 'eval throws an EvalError');
      assert.ok(outcome.violations.includes('script-src-elem'), `violations: ${outcome.violations.join(', ')}`);
      assert.ok(outcome.violations.includes('script-src-attr'), `violations: ${outcome.violations.join(', ')}`);
      assert.ok(outcome.violations.includes('script-src'), `eval reported: ${outcome.violations.join(', ')}`);
    } finally {
      await w.context.close();
    }
  });

  it('keeps a password out of the address, links, storage, cookies and console unless asked to remember it', async () => {
    const w = await watchedPage();
    const requests: { url: string; authorization: string | undefined }[] = [];
    w.context.on('request', (request) => {
      void request
        .allHeaders()
        .then((headers) => requests.push({ url: request.url(), authorization: headers.authorization }));
    });
    const image = `${privateFront.host}/team/secret:v1`;
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const secrets = [PASSWORD, encodeURIComponent(PASSWORD), basic, Buffer.from(PASSWORD).toString('base64')];
    const leaks = (where: string, text: string) => {
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `the password is in ${where}: ${text.slice(0, 300)}`);
    };
    try {
      await w.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
      await w.page.goto(imageUrl(image));
      await w.page.getByRole('alert').getByText('needs you to sign in').waitFor();
      await w.page.getByLabel('Username').fill(USER);
      await w.page.getByLabel('Password').fill(PASSWORD);
      await w.page.getByLabel('Password').press('Enter');
      await waitResolved(w.page);
      const downloading = w.page.waitForEvent('download');
      await w.page.getByRole('button', { name: 'Download', exact: true }).click();
      const download = await downloading;
      await w.page.getByRole('heading', { name: 'Done' }).waitFor();
      assert.equal(await download.failure(), null);
      await w.page.getByRole('button', { name: 'Copy link' }).click();
      await w.page.getByText('Link copied').waitFor();

      const seen = await w.page.evaluate(async () => {
        const entries =
          (globalThis as unknown as { navigation?: { entries(): { url: string }[] } }).navigation?.entries() ?? [];
        const dbs: string[] = [];
        for (const info of (await indexedDB.databases?.()) ?? []) {
          dbs.push(String(info.name));
          const db = await new Promise<IDBDatabase>((resolve, reject) => {
            const open = indexedDB.open(info.name!);
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
          });
          for (const store of db.objectStoreNames) {
            const values = await new Promise<unknown[]>((resolve) => {
              const request = db.transaction(store).objectStore(store).getAll();
              request.onsuccess = () => resolve(request.result);
            });
            dbs.push(store, JSON.stringify(values));
          }
          db.close();
        }
        const opfs: string[] = [];
        const root = await navigator.storage.getDirectory();
        for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) opfs.push(name);
        return {
          url: location.href,
          history: JSON.stringify(history.state),
          entries: entries.map((e) => e.url),
          links: [...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
          clipboard: await navigator.clipboard.readText(),
          local: JSON.stringify(Object.entries(localStorage)),
          session: JSON.stringify(Object.entries(sessionStorage)),
          cookie: document.cookie,
          dbs,
          caches: await caches.keys(),
          opfs,
          title: document.title,
          // Attributes only: a password field's value is a property, not markup.
          markup: document.documentElement.outerHTML,
          text: document.body.innerText,
          resources: performance.getEntriesByType('resource').map((e) => e.name),
        };
      });
      assert.ok(seen.clipboard.includes('image='), `the copied link: ${seen.clipboard}`);
      for (const [where, value] of Object.entries(seen))
        leaks(where, typeof value === 'string' ? value : JSON.stringify(value));
      assert.equal(
        JSON.parse(seen.local).some(([key]: [string]) => key === 'skiff.credentials'),
        false,
      );
      leaks('page.url()', w.page.url());
      leaks('the download', `${download.url()} ${download.suggestedFilename()}`);
      leaks('cookies', JSON.stringify(await w.context.cookies()));
      leaks('the console', w.console.join('\n'));
      // Requests: the password is never in a URL, and Authorization goes to that registry only.
      await w.page.waitForTimeout(100);
      assert.ok(
        requests.some((r) => r.authorization?.startsWith('Basic ')),
        'credentials were sent',
      );
      for (const r of requests) {
        leaks('a request URL', r.url);
        if (r.authorization) assert.equal(new URL(r.url).host, privateFront.host, `Authorization sent to ${r.url}`);
      }

      // Not remembered: a reload forgets them.
      await w.page.reload();
      await w.page.getByRole('alert').getByText('needs you to sign in').waitFor();
      assert.equal(await w.page.getByLabel('Password').inputValue(), '');

      // Remembered only when asked: then they survive a reload, for that registry.
      await w.page.getByLabel('Username').fill(USER);
      await w.page.getByLabel('Password').fill(PASSWORD);
      await w.page.getByLabel('Password').press('Enter');
      await w.page.getByLabel('Remember on this device').check();
      await w.page.reload();
      await waitResolved(w.page);
      assert.equal((await w.page.getByRole('alert').textContent())?.trim(), '');
      await w.page.getByText('Private registry').click();
      assert.equal(await w.page.getByLabel('Username').inputValue(), USER);
      assert.equal(await w.page.getByLabel('Password').inputValue(), PASSWORD);
      assert.equal(await w.page.getByLabel('Remember on this device').isChecked(), true);
      const stored = JSON.parse((await w.page.evaluate(() => localStorage.getItem('skiff.credentials'))) ?? '{}');
      assert.deepEqual(stored, { [privateFront.host]: { username: USER, password: PASSWORD } });
      leaks('page.url() after remembering', w.page.url());
      // Unticking forgets them on this device.
      await w.page.getByLabel('Remember on this device').uncheck();
      assert.equal(await w.page.evaluate(() => localStorage.getItem('skiff.credentials')), null);
    } finally {
      await w.context.close();
    }
  });

  describe('hostile registry answers end in the alert, with no file claimed complete', () => {
    const ref = () => `${front.host}/plain/app:v1`;
    after(() => front.setPlan(undefined));
    const notPreflight = (match: (path: string) => boolean) => (r: { method: string; path: string }) =>
      r.method !== 'OPTIONS' && match(r.path);

    it('a manifest that is not JSON', async () => {
      front.setPlan(
        always(
          notPreflight((p) => p.includes('/manifests/')),
          fault.status(
            200,
            { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
            `<html>${XSS.img}</html>`,
          ),
        ),
      );
      const w = await watchedPage();
      try {
        await w.page.goto(imageUrl(ref()));
        await expectAlert(w, 'image description that is not valid', /not valid JSON/);
      } finally {
        await w.context.close();
      }
    });

    it('a manifest over the size limit', async () => {
      front.setPlan(
        always(
          notPreflight((p) => p.includes('/manifests/')),
          fault.status(
            200,
            { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
            ' '.repeat(4 * 1024 * 1024 + 10),
          ),
        ),
      );
      const w = await watchedPage();
      try {
        await w.page.goto(imageUrl(ref()));
        await expectAlert(w, 'larger than Skiff accepts', /4194304/);
      } finally {
        await w.context.close();
      }
    });

    // A byte of the gzip header's MTIME inflates the same: only the blob digest can tell. One in the middle
    // breaks the deflate stream (its CRC) before the digest is even reached.
    for (const [name, offset, detail] of [
      [
        'a layer whose bytes do not match its digest (gzip header changed), during the download',
        () => 4,
        /sha256:[0-9a-f]{64}.*(digest|sha256:)/,
      ],
      [
        'a layer corrupted mid-stream, during the download',
        (size: number) => Math.floor(size / 2),
        /not valid gzip data|digest/,
      ],
    ] as const) {
      it(name, async () => {
        const layer = plain.layers[1]!;
        // Every GET of the whole blob has one byte flipped (the 8-byte trailer read is left alone).
        front.setPlan(
          always(
            (r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`) && r.range === undefined,
            fault.flipByte(offset(layer.size)),
          ),
        );
        const w = await watchedPage();
        try {
          await w.page.goto(imageUrl(ref()));
          await waitResolved(w.page);
          await w.page.getByRole('button', { name: 'Download', exact: true }).click();
          await expectAlert(w, 'did not match its checksum', detail);
          assert.ok(
            front.requests.some((r) => r.faults.includes('flip-byte')),
            'the corruption was served',
          );
        } finally {
          await w.context.close();
        }
      });
    }

    it('a token endpoint that answers HTML', async () => {
      front.setPlan((r) => {
        if (r.method === 'OPTIONS') return undefined;
        if (r.path.startsWith('/token'))
          return fault.status(
            200,
            { 'Content-Type': 'text/html' },
            `<html><script>window.__pwned=1</script>${XSS.img}</html>`,
          );
        if (r.path.startsWith('/v2/') && !r.headers.authorization)
          return fault.unauthorized(`Bearer realm="${front.url}/token",service="s"`);
        return undefined;
      });
      const w = await watchedPage();
      try {
        await w.page.goto(imageUrl(ref()));
        await expectAlert(w, 'sign-in service answered in a way', /did not answer with JSON/);
      } finally {
        await w.context.close();
      }
    });

    it('a redirect loop', async () => {
      front.setPlan(
        always(
          notPreflight((p) => p.includes('/manifests/')),
          fault.status(302, { Location: `${front.url}/v2/plain/app/manifests/v1` }),
        ),
      );
      const w = await watchedPage();
      try {
        await w.page.goto(imageUrl(ref()));
        // The browser follows redirects itself and reports a loop only as a failed fetch, like a CORS refusal.
        await expectAlert(w, 'could not reach the registry', /Could not reach/);
        assert.ok(front.requests.filter((r) => r.status === 302).length >= 20, 'the loop was followed');
      } finally {
        await w.context.close();
      }
    });

    it('a registry that never answers (page clock run forward past the time-outs)', async () => {
      const w = await watchedPage();
      try {
        // The engine waits 20 s for an answer, up to a minute in all: the page's timers are run forward instead.
        await w.page.clock.install();
        await w.page.goto(imageUrl(`${silent.host}/quiet/app:v1`));
        const alert = w.page.getByRole('alert');
        for (let i = 0; i < 40 && !(await alert.getByText(`${silent.host} did not answer`).count()); i++) {
          await w.page.clock.fastForward(21_000);
          await w.page.waitForTimeout(100);
        }
        await expectAlert(
          w,
          `${silent.host} did not answer`,
          /did not answer within 20 s \(gave up after \d tries\)/,
          1_000,
        );
        assert.ok(silent.requests >= 2, `retried: ${silent.requests} requests`);
      } finally {
        await w.context.close();
      }
    });

    it('a layer that stalls mid-body (the host set a 2 s stall time-out in config.json)', async () => {
      const layer = plain.layers[1]!;
      // Every answer for it, resumed ones included, stops after 100 bytes and keeps the connection open.
      const tail = `bytes=${layer.size - 8}-${layer.size - 1}`;
      front.setPlan(
        always(
          (r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`) && r.range !== tail,
          fault.stall(100),
        ),
      );
      // Layers are pulled in a worker, whose timers the page clock does not drive: a real, short time-out instead.
      server.config = { stallTimeoutSeconds: 2 };
      const w = await watchedPage();
      try {
        await w.page.goto(imageUrl(ref()));
        await waitResolved(w.page);
        await w.page.getByRole('button', { name: 'Download', exact: true }).click();
        // Layers download in parallel: more than one row may say so.
        await w.page.getByRole('cell', { name: 'downloading' }).first().waitFor();
        await expectAlert(w, `${front.host} kept stalling`, /no data for 2 s/, 60_000);
        assert.ok(front.requests.filter((r) => r.faults.includes('stall')).length >= 6, 'resumed, then gave up');
      } finally {
        front.setPlan(undefined);
        server.config = {};
        await w.context.close();
      }
    });
    it('a manifest whose body stalls after the headers', async () => {
      front.setPlan(always((r) => r.method === 'GET' && r.path.includes('/manifests/'), fault.stall(10)));
      const w = await watchedPage();
      try {
        await w.page.clock.install();
        await w.page.goto(imageUrl(ref()));
        const alert = w.page.getByRole('alert');
        for (let i = 0; i < 20 && !(await alert.getByRole('heading').count()); i++) {
          await w.page.clock.fastForward(61_000);
          await w.page.waitForTimeout(100);
        }
        await expectAlert(w, `${front.host} answered far too slowly`, /only 10 bytes arrived/, 1_000);
      } finally {
        front.setPlan(undefined);
        await w.context.close();
      }
    });
  });
});
