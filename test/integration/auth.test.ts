/**
 * Auth as real registries do it: distribution with htpasswd (Basic) and with token auth (a token server
 * signing RS256 JWTs), anonymous and with credentials, tokens expiring mid-pull, wrong passwords — and
 * credentials never following a redirect to another host.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { type FaultProxy, always, fault, once, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { type TokenServer, startTokenServer } from '../support/token-server.ts';

const dir = scratchDir('auth');
const isCode = (code: string) => (e: unknown) => e instanceof SkiffError && e.code === code;
after(() => dir.remove());

describe('htpasswd (Basic) registry', () => {
  let registry: Registry;
  let image: PushedImage;
  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { username: 'alice', password: 's3cret pass' } } });
    image = await pushImage(registry, 'private/app', 'v1', { format: 'docker', layers: smallLayers() });
  });
  after(() => registry?.stop());

  test('pulls with the right credentials', async () => {
    const result = await pullToFile([image.reference], join(dir.path, 'basic.tar'), {
      credentials: { username: 'alice', password: 's3cret pass' },
    });
    assert.equal(result.images[0]!.configDigest, image.configDigest);
  });

  test('a wrong password is a clear "unauthorized", not a stack trace', async () => {
    await assert.rejects(resolve(image.reference, { credentials: { username: 'alice', password: 'wrong' } }), (e) => {
      assert.ok(isCode('unauthorized')(e));
      assert.match((e as Error).message, /refused these credentials/);
      return true;
    });
  });

  test('no credentials says credentials are needed', async () => {
    await assert.rejects(
      resolve(image.reference),
      (e) => isCode('unauthorized')(e) && /needs credentials/.test((e as Error).message),
    );
  });
});

describe('token (Bearer) registry', () => {
  let tokens: TokenServer;
  let registry: Registry;
  let publicImage: PushedImage;
  let privateImage: PushedImage;
  before(async () => {
    tokens = await startTokenServer({
      users: { bob: 'hunter2' },
      anonymousPull: ['public/*'],
      tokenField: 'access_token',
    });
    registry = await startRegistry({ auth: { token: tokens } });
    publicImage = await pushImage(registry, 'public/app', 'v1', { format: 'oci', layers: smallLayers() });
    privateImage = await pushImage(registry, 'team/app', 'v1', { format: 'oci', layers: smallLayers('zstd') });
  });
  after(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  test('anonymous pull of a public repository, one token for the whole pull (accepting access_token)', async () => {
    tokens.requests.length = 0;
    const result = await pullToFile([publicImage.reference], join(dir.path, 'anon.tar'));
    assert.equal(result.images[0]!.configDigest, publicImage.configDigest);
    assert.equal(tokens.requests.length, 1, 'token cached per scope');
    assert.equal(tokens.requests[0]!.account, undefined);
    assert.deepEqual(tokens.requests[0]!.scopes, ['repository:public/app:pull']);
  });

  test('a private repository with username + password sent to the realm', async () => {
    tokens.requests.length = 0;
    const result = await pullToFile([privateImage.reference], join(dir.path, 'private.tar'), {
      credentials: { username: 'bob', password: 'hunter2' },
    });
    assert.equal(result.images[0]!.configDigest, privateImage.configDigest);
    assert.equal(tokens.requests[0]!.account, 'bob');
  });

  test('without credentials a private repository is "unauthorized"', async () => {
    await assert.rejects(resolve(privateImage.reference), isCode('unauthorized'));
  });

  test('a wrong password is "unauthorized" with advice', async () => {
    await assert.rejects(
      resolve(privateImage.reference, { credentials: { username: 'bob', password: 'nope' } }),
      (e) => isCode('unauthorized')(e) && /check the username/.test((e as Error).message),
    );
  });

  test('short-lived tokens are renewed before they run out, and the pull goes on', async () => {
    tokens.requests.length = 0;
    tokens.setExpiresIn(3);
    try {
      const result = await pullToFile([publicImage.reference], join(dir.path, 'short.tar'));
      assert.equal(result.images[0]!.configDigest, publicImage.configDigest);
      assert.ok(tokens.requests.length > 1, `renewed: ${tokens.requests.length} token requests`);
    } finally {
      tokens.setExpiresIn(300);
    }
  });

  test('a token the registry refuses at once ends in "unauthorized", without a retry loop', async () => {
    tokens.requests.length = 0;
    tokens.expireNext(5);
    await assert.rejects(resolve(publicImage.reference), isCode('unauthorized'));
    assert.equal(tokens.requests.length, 1, 'no retry loop');
  });
});

describe('a 401 from a proxy mid-pull', () => {
  let tokens: TokenServer;
  let registry: Registry;
  let proxy: FaultProxy;
  let image: PushedImage;
  before(async () => {
    tokens = await startTokenServer({ anonymousPull: true });
    registry = await startRegistry({ auth: { token: tokens } });
    image = await pushImage(registry, 'lib/app', 'v1', { format: 'oci', layers: smallLayers() });
    proxy = await startFaultProxy(registry.url);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    await tokens?.stop();
  });

  test('fetches a fresh token and goes on', async () => {
    const layer = image.layers.at(-1)!;
    proxy.setPlan(
      once(
        `/blobs/${layer.digest}`,
        fault.unauthorized(
          `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:lib/app:pull"`,
        ),
      ),
    );
    tokens.requests.length = 0;
    const result = await pullToFile([`${proxy.host}/lib/app:v1`], join(dir.path, 'refresh.tar'));
    assert.equal(result.images[0]!.configDigest, image.configDigest);
    assert.equal(tokens.requests.length, 2);
  });
});

describe('token answers that break off or drip', () => {
  let tokens: TokenServer;
  let tokenProxy: FaultProxy;
  let registry: Registry;
  let image: PushedImage;
  before(async () => {
    tokens = await startTokenServer({ anonymousPull: true });
    tokenProxy = await startFaultProxy(tokens.url);
    registry = await startRegistry({ auth: { token: tokens, realm: `${tokenProxy.url}/token` } });
    image = await pushImage(registry, 'lib/tok', 'v1', { format: 'oci', layers: smallLayers() });
  });
  after(async () => {
    await registry?.stop();
    await tokenProxy?.stop();
    await tokens?.stop();
  });

  test('a token answer cut once is asked for again, and the pull goes on', async () => {
    tokenProxy.setPlan(once('/token', fault.cut(20)));
    tokenProxy.reset();
    const resolved = await resolve(image.reference);
    assert.equal(resolved.config.digest, image.configDigest);
    assert.ok(tokenProxy.requests[0]!.faults.includes('cut'));
    assert.ok(tokenProxy.requests.length >= 2);
  });

  test('a token answer that drips ends in a time-out naming the token service, after bounded tries', async () => {
    tokenProxy.setPlan(always('/token', fault.drip(10, 1)));
    const started = Date.now();
    await assert.rejects(resolve(image.reference, { bodyDeadlineMs: 1_000, retry: { attempts: 2 } }), (e) => {
      assert.ok(e instanceof SkiffError && e.code === 'timeout', String(e));
      assert.match(
        e.message,
        new RegExp(`^The token answer from ${tokenProxy.host}: only 1\\d bytes arrived in 1 s.*gave up after 2 tries`),
      );
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    tokenProxy.setPlan(undefined);
  });
});

describe('redirects', () => {
  let registry: Registry;
  let image: PushedImage;
  let cdn: Server;
  let front: Server;
  const cdnSawAuthorization: boolean[] = [];
  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { username: 'u', password: 'p' } } });
    image = await pushImage(registry, 'redir/app', 'v1', { format: 'oci', layers: smallLayers() });
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    // A "CDN" on another origin (localhost vs 127.0.0.1) that serves blobs with its own access, as signed URLs do.
    cdn = createServer(async (req, res) => {
      cdnSawAuthorization.push(req.headers.authorization !== undefined);
      const upstream = await fetch(`${registry.url}${req.url}`, {
        headers: { authorization: basic, ...(req.headers.range ? { range: req.headers.range } : {}) },
      });
      res.writeHead(
        upstream.status,
        Object.fromEntries([...upstream.headers].filter(([k]) => k !== 'transfer-encoding')),
      );
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    const cdnPort = (cdn.address() as AddressInfo).port;
    // The registry's front: blob GETs are redirected to the CDN, the rest is passed on.
    front = createServer(async (req, res) => {
      if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && req.headers.authorization) {
        res.writeHead(307, { location: `http://localhost:${cdnPort}${req.url}` }).end();
        return;
      }
      const upstream = await fetch(`${registry.url}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => ['authorization', 'accept', 'range'].includes(k)),
        ) as Record<string, string>,
      });
      res.writeHead(
        upstream.status,
        Object.fromEntries([...upstream.headers].filter(([k]) => k !== 'transfer-encoding' && k !== 'content-length')),
      );
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    cdn?.close();
    front?.close();
    await registry?.stop();
  });

  test('a blob redirected to another host is fetched without the credentials', async () => {
    const host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    const result = await pullToFile([`${host}/redir/app:v1`], join(dir.path, 'redirect.tar'), {
      credentials: { username: 'u', password: 'p' },
    });
    assert.equal(result.images[0]!.configDigest, image.configDigest);
    assert.ok(cdnSawAuthorization.length > 0, 'blobs came through the CDN');
    assert.ok(
      cdnSawAuthorization.every((seen) => !seen),
      'Authorization never reached the other host',
    );
  });
});
