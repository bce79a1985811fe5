/**
 * The CORS relay against real registries on loopback (distribution 2.8, open and with token auth), a small
 * redirecting origin and a "CDN", run twice: as the Node server and on the real workerd binary.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/core/registry.ts';
import { parseWwwAuthenticate } from '../../src/core/transport/challenge.ts';
import { isPublicAddress } from '../../src/relay/hosts.ts';
import { MediaType, SMALL_CONFIG, pushImage, smallLayers, type PushedImage } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { pushBlob, startRegistry, type Registry } from '../support/registry.ts';
import { startNodeRelay, startRelay, type RelayRuntime, type RelayServer } from '../support/relay.ts';
import { startTokenServer, type TokenServer } from '../support/token-server.ts';

const root = resolve(import.meta.dirname, '../..');
const ACCEPT = [MediaType.ociManifest, MediaType.dockerManifest, MediaType.ociIndex, MediaType.dockerManifestList].join(
  ', ',
);
const FOREIGN_ORIGIN = 'http://evil.example';
const APP_ORIGIN = 'http://app.example';
const SECRET_BEARER = 'Bearer relay-test-secret-token';

interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
}

interface TestServer {
  port: number;
  requests: Recorded[];
  stop(): Promise<void>;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port };
}

function stopper(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
}

/** The "CDN": records what arrives (above all, whether Authorization did) and serves fixed bytes. */
async function startCdn(): Promise<TestServer> {
  const requests: Recorded[] = [];
  const { server, port } = await listen((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': 9,
      'docker-content-digest': 'sha256:cdn',
    });
    res.end('cdn-bytes');
  });
  return { port, requests, stop: stopper(server) };
}

/** A registry-like origin on 127.0.0.1 with redirects, header echo, oversized token answers and a slow body. */
async function startOrigin(cdnPort: number, unlistedPort: number): Promise<TestServer & { releaseSlow(): void }> {
  const requests: Recorded[] = [];
  let releaseSlow: () => void = () => {};
  let port = 0;
  const listening = await listen((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    const path = (req.url ?? '').split('?')[0];
    switch (path) {
      case '/v2/r/blobs/cross':
        res.writeHead(307, { location: `http://localhost:${cdnPort}/blob?signature=abc` });
        return void res.end();
      case '/v2/r/blobs/same':
        res.writeHead(302, { location: '/v2/r/blobs/final' });
        return void res.end();
      case '/v2/r/blobs/final':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 });
        return void res.end('final');
      case '/v2/r/blobs/loop':
        res.writeHead(302, { location: '/v2/r/blobs/loop' });
        return void res.end();
      case '/v2/r/blobs/elsewhere':
        res.writeHead(302, { location: `http://127.0.0.1:${unlistedPort}/x` });
        return void res.end();
      case '/moved/token':
        // A token endpoint that moved to another host, keeping method and body (307).
        res.writeHead(307, { location: `http://localhost:${cdnPort}/moved/token` });
        return void res.end();
      case '/v2/r/blobs/file':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        return void res.end();
      case '/v2/r/blobs/userinfo':
        res.writeHead(302, { location: `http://user:pw@localhost:${cdnPort}/x` });
        return void res.end();
      case '/v2/r/manifests/echo': {
        const body = JSON.stringify(req.headers);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'docker-content-digest': 'sha256:echo',
          'docker-distribution-api-version': 'registry/2.0',
          etag: '"e1"',
          'set-cookie': 'session=1',
          'x-internal': 'do-not-pass',
          'access-control-allow-origin': '*',
        });
        return void res.end(body);
      }
      case '/v2/r/manifests/challenge':
        // Realms on an allowed host (rewritten, other parameters kept and re-quoted) and on an unlisted one (untouched).
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': (req.url ?? '').endsWith('?foreign')
            ? 'Bearer realm="https://auth.unlisted.example/token",service="svc"'
            : `Bearer realm="http://127.0.0.1:${port}/oauth/token?x=1",service="a \\"quoted\\", svc",scope="repository:r:pull", Basic realm="basic"`,
        });
        return void res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      case '/v2/token':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 * 1024 * 1024 });
        return void res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
      case '/v2/r/blobs/slow':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 8 });
        res.write('slow');
        releaseSlow = () => res.end('done');
        return;
      default:
        res.writeHead(404, { 'content-type': 'application/json' });
        return void res.end('{"errors":[{"code":"NOT_FOUND"}]}');
    }
  });
  port = listening.port;
  return { port, requests, stop: stopper(listening.server), releaseSlow: () => releaseSlow() };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as written: fetch would resolve `..` before sending it. */
function raw(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const { hostname: host, port } = new URL(url);
  return new Promise((done, fail) => {
    // Explicit framing: Node sends a DELETE or GET body unframed, which the server would read as the next request.
    const framing =
      options.body !== undefined && !options.headers?.['content-length']
        ? { 'content-length': String(Buffer.byteLength(options.body)) }
        : {};
    const req = httpRequest(
      { host, port, path, method: options.method ?? 'GET', headers: { ...framing, ...options.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}

/** Asserts the relay's JSON error shape and returns its code. */
function errorCode(response: RawResponse): string {
  assert.match(
    String(response.headers['content-type']),
    /^application\/json/,
    `expected a JSON error, got ${response.status} ${response.body.toString().slice(0, 200)}`,
  );
  const parsed = JSON.parse(response.body.toString()) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof parsed.error?.code, 'string');
  assert.equal(typeof parsed.error?.message, 'string');
  assert.ok(String(parsed.error?.message).length > 10, 'the message says what happened');
  return String(parsed.error?.code);
}

async function refused(response: RawResponse | Response, status: number, code: string): Promise<void> {
  const r: RawResponse =
    response instanceof Response
      ? {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: Buffer.from(await response.arrayBuffer()),
        }
      : response;
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.body.toString().slice(0, 300)}`);
  assert.equal(errorCode(r), code);
}

async function bytes(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

const sha256 = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('CORS relay', () => {
  let registry: Registry;
  let tokens: TokenServer;
  let secure: Registry;
  let cdn: TestServer;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let unlisted: TestServer;
  let image: PushedImage;
  let secureImage: PushedImage;
  let bigBlob: { digest: string; data: Buffer };
  let loopbackName: string | undefined;
  let env: Record<string, string>;

  before(async () => {
    registry = await startRegistry();
    tokens = await startTokenServer({ anonymousPull: ['relay/*'], users: { alice: 's3cret-password' } });
    secure = await startRegistry({ auth: { token: tokens } });
    cdn = await startCdn();
    unlisted = await startCdn();
    origin = await startOrigin(cdn.port, unlisted.port);
    const spec = { format: 'oci' as const, layers: smallLayers(), config: SMALL_CONFIG };
    image = await pushImage(registry, 'relay/app', 'v1', spec);
    secureImage = await pushImage(secure, 'relay/secure', 'v1', spec);
    const data = randomBytes(6 * 1024 * 1024 + 123);
    bigBlob = { digest: (await pushBlob(registry, 'relay/app', data)).digest, data };

    // A name that is not "localhost" yet resolves to loopback: the Node relay must catch it from DNS.
    const name = hostname().toLowerCase();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    loopbackName =
      /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name) &&
      addresses.length > 0 &&
      addresses.every((a) => !isPublicAddress(a.address))
        ? name
        : undefined;

    const tokenHost = new URL(tokens.url).host;
    const reachable = [registry.host, secure.host, tokenHost, `127.0.0.1:${origin.port}`, `localhost:${cdn.port}`];
    const registryPort = registry.host.split(':')[1];
    // Allowed but not as private: each must still be refused for its address.
    const publicOnly = [
      `localhost:${registryPort}`,
      '10.0.0.1:5000',
      '[::1]:5000',
      '169.254.169.254',
      ...(loopbackName ? [`${loopbackName}:${registryPort}`] : []),
    ];
    env = {
      RELAY_ALLOW: publicOnly.join(','),
      RELAY_ALLOW_PRIVATE: reachable.join(','),
      RELAY_PLAIN_HTTP: [...reachable, ...publicOnly].join(','),
      RELAY_ORIGINS: APP_ORIGIN,
      RELAY_DOCKERHUB_MIRROR: registry.host,
    };
  });

  after(async () => {
    await Promise.all([registry?.stop(), secure?.stop(), cdn?.stop(), unlisted?.stop(), origin?.stop()]);
    await tokens?.stop();
  });

  for (const runtime of ['node', 'workerd'] as RelayRuntime[]) {
    describe(`on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env });
      });
      after(() => relay?.stop());

      it('relays a manifest and its blobs byte for byte, with the registry headers exposed', async () => {
        const manifestPath = `/v2/relay/app/manifests/v1`;
        const direct = await fetch(`${registry.url}${manifestPath}`, { headers: { accept: ACCEPT } });
        const relayed = await fetch(`${relay.base}/${registry.host}${manifestPath}`, {
          headers: { accept: ACCEPT, origin: APP_ORIGIN },
        });
        assert.equal(relayed.status, 200);
        const relayedBytes = await bytes(relayed);
        assert.deepEqual(relayedBytes, await bytes(direct));
        assert.deepEqual(new Uint8Array(relayedBytes), image.manifestBytes);
        assert.equal(relayed.headers.get('docker-content-digest'), image.manifestDigest);
        assert.equal(relayed.headers.get('content-type'), image.manifestMediaType);
        assert.equal(relayed.headers.get('content-length'), String(image.manifestBytes.byteLength));
        assert.equal(relayed.headers.get('access-control-allow-origin'), APP_ORIGIN);
        const exposed = (relayed.headers.get('access-control-expose-headers') ?? '').toLowerCase();
        for (const name of [
          'docker-content-digest',
          'www-authenticate',
          'content-range',
          'content-length',
          'etag',
          'retry-after',
          'docker-distribution-api-version',
        ]) {
          assert.ok(exposed.includes(name), `${name} is exposed`);
        }

        for (const blob of [
          { digest: image.configDigest, size: image.configBytes.byteLength },
          ...image.layers,
          { digest: bigBlob.digest, size: bigBlob.data.byteLength },
        ]) {
          const path = `/v2/relay/app/blobs/${blob.digest}`;
          const viaRelay = await fetch(`${relay.base}/${registry.host}${path}`);
          assert.equal(viaRelay.status, 200);
          assert.equal(viaRelay.headers.get('content-length'), String(blob.size), 'Content-Length survives the relay');
          const data = await bytes(viaRelay);
          assert.equal(sha256(data), blob.digest);
          assert.deepEqual(data, await bytes(await fetch(`${registry.url}${path}`)));
        }

        const head = await fetch(`${relay.base}/${registry.host}/v2/relay/app/blobs/${bigBlob.digest}`, {
          method: 'HEAD',
        });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), String(bigBlob.data.byteLength));
        assert.equal(head.headers.get('docker-content-digest'), bigBlob.digest);

        const ranged = await fetch(`${relay.base}/${registry.host}/v2/relay/app/blobs/${bigBlob.digest}`, {
          headers: { range: 'bytes=1000-1999' },
        });
        assert.equal(ranged.status, 206);
        assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${bigBlob.data.byteLength}`);
        assert.deepEqual(await bytes(ranged), bigBlob.data.subarray(1000, 2000));
      });

      it('lets the engine pull through it unchanged (open registry)', async () => {
        const client = new RegistryClient(registry.host, { relay: relay.base, retry: { attempts: 1 } });
        const manifest = await client.getManifest('relay/app', 'v1');
        assert.deepEqual(manifest.bytes, image.manifestBytes);
        const config = await client.getSmallBlob('relay/app', image.configDigest, image.configBytes.byteLength);
        assert.deepEqual(config, image.configBytes);
      });

      it('sends registry-1.docker.io requests to the configured mirror', async () => {
        const viaMirror = await fetch(`${relay.base}/registry-1.docker.io/v2/relay/app/manifests/v1`, {
          headers: { accept: ACCEPT },
        });
        assert.equal(viaMirror.status, 200);
        assert.deepEqual(new Uint8Array(await bytes(viaMirror)), image.manifestBytes);
      });

      it('rewrites the Bearer realm into the relay, and the token it yields works through the relay', async () => {
        const manifestUrl = `${relay.base}/${secure.host}/v2/relay/secure/manifests/v1`;
        const challenged = await fetch(manifestUrl, { headers: { accept: ACCEPT } });
        await challenged.body?.cancel();
        assert.equal(challenged.status, 401);
        const [challenge] = parseWwwAuthenticate(challenged.headers.get('www-authenticate') ?? '');
        assert.equal(challenge?.scheme, 'bearer');
        const tokenHost = new URL(tokens.url).host;
        assert.equal(challenge.params.realm, `${relay.base}/${tokenHost}/token`);
        assert.equal(challenge.params.service, tokens.service);
        assert.equal(challenge.params.scope, 'repository:relay/secure:pull');

        tokens.requests.length = 0;
        const realm = new URL(challenge.params.realm!);
        realm.searchParams.set('service', challenge.params.service!);
        realm.searchParams.set('scope', challenge.params.scope!);
        const tokenResponse = await fetch(realm, { headers: { accept: 'application/json' } });
        assert.equal(tokenResponse.status, 200);
        const { token } = (await tokenResponse.json()) as { token: string };
        assert.equal(tokens.requests.length, 1, 'the token request reached the token server through the relay');
        assert.deepEqual(tokens.requests[0]?.scopes, ['repository:relay/secure:pull']);

        const authorized = await fetch(manifestUrl, { headers: { accept: ACCEPT, authorization: `Bearer ${token}` } });
        assert.equal(authorized.status, 200);
        assert.deepEqual(new Uint8Array(await bytes(authorized)), secureImage.manifestBytes);

        // OAuth2 password grant: a form POST through the relay.
        const form = new URLSearchParams({
          grant_type: 'password',
          username: 'alice',
          password: 's3cret-password',
          service: tokens.service,
          scope: 'repository:relay/secure:pull',
          client_id: 'skiff',
        });
        const oauth = await fetch(realm.origin + realm.pathname, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
        assert.equal(oauth.status, 200);
        const { access_token: accessToken } = (await oauth.json()) as { access_token: string };
        assert.equal(tokens.requests.at(-1)?.account, 'alice');
        assert.equal(tokens.requests.at(-1)?.grantType, 'password');
        const withOauth = await fetch(manifestUrl, {
          headers: { accept: ACCEPT, authorization: `Bearer ${accessToken}` },
        });
        assert.equal(withOauth.status, 200);
        await withOauth.body?.cancel();

        // And the engine, given only the relay, finds its way through the challenge on its own.
        const client = new RegistryClient(secure.host, { relay: relay.base, retry: { attempts: 1 } });
        assert.deepEqual((await client.getManifest('relay/secure', 'v1')).bytes, secureImage.manifestBytes);
      });

      it('rebuilds challenges with realms it can relay, and passes others untouched', async () => {
        const rewritten = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/challenge`);
        await rewritten.body?.cancel();
        assert.equal(rewritten.status, 401);
        const [bearer, basic] = parseWwwAuthenticate(rewritten.headers.get('www-authenticate') ?? '');
        assert.deepEqual(
          { ...bearer?.params },
          {
            realm: `${relay.base}/127.0.0.1:${origin.port}/oauth/token?x=1`,
            service: 'a "quoted", svc',
            scope: 'repository:r:pull',
          },
        );
        assert.equal(basic?.scheme, 'basic');
        assert.equal(basic?.params.realm, 'basic');

        const foreign = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/challenge?foreign`);
        await foreign.body?.cancel();
        assert.equal(
          foreign.headers.get('www-authenticate'),
          'Bearer realm="https://auth.unlisted.example/token",service="svc"',
        );
        await refused(await raw(relay.url, '/relay/auth.unlisted.example/token'), 403, 'host-not-allowed');
      });

      it('follows redirects itself, dropping Authorization when the host changes', async () => {
        const cross = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/cross`, {
          headers: { authorization: SECRET_BEARER, range: 'bytes=0-8' },
        });
        assert.equal(cross.status, 200);
        assert.equal(cross.headers.get('location'), null);
        assert.equal(await cross.text(), 'cdn-bytes');
        assert.equal(
          origin.requests.at(-1)?.headers.authorization,
          SECRET_BEARER,
          'the registry itself got the credentials',
        );
        const atCdn = cdn.requests.at(-1);
        assert.equal(atCdn?.path, '/blob?signature=abc');
        assert.equal(atCdn?.headers.authorization, undefined, 'no Authorization at the other host');
        assert.equal(atCdn?.headers.range, 'bytes=0-8', 'Range follows the redirect');

        const same = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/same`, {
          headers: { authorization: SECRET_BEARER },
        });
        assert.equal(await same.text(), 'final');
        assert.equal(origin.requests.at(-1)?.path, '/v2/r/blobs/final');
        assert.equal(origin.requests.at(-1)?.headers.authorization, SECRET_BEARER, 'same host: credentials kept');

        await refused(await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/loop`), 502, 'too-many-redirects');
        const before = unlisted.requests.length;
        await refused(
          await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/elsewhere`),
          403,
          'redirect-not-allowed',
        );
        await refused(
          await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/userinfo`),
          403,
          'redirect-not-allowed',
        );
        assert.equal(unlisted.requests.length, before, 'a refused redirect target is never contacted');
      });

      it('forwards only the listed headers each way', async () => {
        const response = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/echo`, {
          headers: {
            accept: ACCEPT,
            authorization: SECRET_BEARER,
            range: 'bytes=0-',
            'if-none-match': '"e0"',
            cookie: 'sid=secret',
            'x-forwarded-for': '1.2.3.4',
            'x-custom': 'no',
          },
        });
        assert.equal(response.status, 200);
        const received = (await response.json()) as Record<string, string>;
        assert.equal(received.accept, ACCEPT);
        assert.equal(received.authorization, SECRET_BEARER);
        assert.equal(received.range, 'bytes=0-');
        assert.equal(received['if-none-match'], '"e0"');
        for (const name of ['cookie', 'x-forwarded-for', 'x-custom', 'origin'])
          assert.equal(received[name], undefined, `${name} is not forwarded`);
        assert.equal(response.headers.get('docker-content-digest'), 'sha256:echo');
        assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
        assert.equal(response.headers.get('etag'), '"e1"');
        assert.equal(response.headers.get('set-cookie'), null);
        assert.equal(response.headers.get('x-internal'), null);
        assert.equal(
          response.headers.get('access-control-allow-origin'),
          null,
          "the upstream's own CORS headers are not passed",
        );
        assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      });

      it('refuses hosts off the allowlist and private addresses', async () => {
        const before = unlisted.requests.length;
        await refused(await raw(relay.url, `/relay/example.com/v2/`), 403, 'host-not-allowed');
        await refused(await raw(relay.url, `/relay/127.0.0.1:${unlisted.port}/v2/x`), 403, 'host-not-allowed');
        await refused(await raw(relay.url, `/relay/localhost:${unlisted.port}/v2/`), 403, 'host-not-allowed');
        assert.equal(unlisted.requests.length, before);
        const registryPort = registry.host.split(':')[1];
        // On the allowlist, but not as private: refused for the address (a name that means loopback included).
        for (const host of [`localhost:${registryPort}`, '10.0.0.1:5000', '[::1]:5000', '169.254.169.254']) {
          await refused(await raw(relay.url, `/relay/${host}/v2/`), 403, 'private-address');
        }
      });

      it('refuses other methods, bodies outside token POSTs, and oversized or mistyped token bodies', async () => {
        const manifest = `/relay/${registry.host}/v2/relay/app/manifests/v1`;
        for (const method of ['DELETE', 'PATCH']) {
          const response = await raw(relay.url, manifest, {
            method,
            body: '{}',
            headers: { 'content-type': 'application/json' },
          });
          await refused(response, 405, 'method-not-allowed');
          assert.match(String(response.headers.allow), /GET/);
        }
        await refused(
          await raw(relay.url, manifest, {
            method: 'POST',
            body: 'x=1',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          405,
          'method-not-allowed',
        );
        // Writes (uploads, manifest PUTs) go only to hosts on RELAY_ALLOW_PUSH, which is empty here.
        await refused(
          await raw(relay.url, `/relay/${registry.host}/v2/relay/app/blobs/uploads/`, { method: 'POST' }),
          403,
          'push-not-allowed',
        );
        await refused(
          await raw(relay.url, manifest, {
            method: 'PUT',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          }),
          403,
          'push-not-allowed',
        );
        await refused(
          await raw(relay.url, manifest, { method: 'GET', body: 'hello', headers: { 'content-length': '5' } }),
          400,
          'body-not-allowed',
        );

        const tokenPath = `/relay/${new URL(tokens.url).host}/token`;
        await refused(
          await raw(relay.url, tokenPath, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          }),
          415,
          'unsupported-media-type',
        );
        const big = `grant_type=password&username=alice&password=${'x'.repeat(70 * 1024)}`;
        await refused(
          await raw(relay.url, tokenPath, {
            method: 'POST',
            body: big,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          413,
          'body-too-large',
        );
        // Token endpoints answer small JSON: a large answer is cut off.
        await refused(await raw(relay.url, `/relay/127.0.0.1:${origin.port}/v2/token`), 502, 'upstream-too-large');
      });

      it('refuses path tricks', async () => {
        const host = registry.host;
        const cases: [string, number, string][] = [
          [`/relay/${host}/v2/%2e%2e/%2e%2e/example.com/v2/`, 400, 'bad-path'],
          [`/relay/${host}/v2/.%2E/x`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%2Fapp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%2fapp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%5capp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/a%00b`, 400, 'bad-path'],
          [`/relay/user@${host}/v2/`, 400, 'bad-host'],
          [`/relay/user:pw@${host}/v2/`, 400, 'bad-host'],
          [`/relay/127.0.0.1:99999/v2/`, 400, 'bad-port'],
          [`/relay/127.0.0.1:0/v2/`, 400, 'bad-port'],
          [`/relay/127.1:${host.split(':')[1]}/v2/`, 400, 'bad-host'],
          [`/relay/2130706433:${host.split(':')[1]}/v2/`, 400, 'bad-host'],
          [`/relay/${host}/debug/vars`, 403, 'path-not-allowed'],
          [`/relay/${host}/`, 403, 'path-not-allowed'],
          [`/relay/${host}`, 403, 'path-not-allowed'],
          [`/relay/`, 400, 'bad-host'],
        ];
        cases.push(
          [`/relay/${host}/v2/../../example.com/v2/`, 400, 'bad-path'],
          [`/relay/${host}/v2/./relay/app/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay//app/manifests/v1`, 400, 'bad-path'],
          [`/relay//v2/`, 400, 'bad-host'],
          [`/relay/${host}/v2\\..\\x`, 400, 'bad-path'],
        );
        for (const [path, status, code] of cases) {
          const response = await raw(relay.url, path);
          assert.equal(response.status, status, `${path}: ${response.body.toString().slice(0, 300)}`);
          assert.equal(errorCode(response), code, path);
        }
      });

      it('answers preflights for allowed origins only', async () => {
        const path = `/relay/${registry.host}/v2/relay/app/manifests/v1`;
        const preflight = (originHeader: string, method = 'GET') =>
          raw(relay.url, path, {
            method: 'OPTIONS',
            headers: {
              origin: originHeader,
              'access-control-request-method': method,
              'access-control-request-headers': 'authorization, range',
            },
          });
        const ok = await preflight(APP_ORIGIN);
        assert.equal(ok.status, 204);
        assert.equal(ok.headers['access-control-allow-origin'], APP_ORIGIN);
        assert.match(String(ok.headers['access-control-allow-methods']), /GET/);
        assert.match(String(ok.headers['access-control-allow-methods']), /HEAD/);
        assert.match(String(ok.headers['access-control-allow-methods']), /POST/);
        for (const name of ['Authorization', 'Accept', 'Range', 'Content-Type'])
          assert.match(String(ok.headers['access-control-allow-headers']), new RegExp(name));
        assert.ok(Number(ok.headers['access-control-max-age']) > 0);

        // The relay's own origin (the app served beside it) is always allowed.
        const own = await preflight(relay.url);
        assert.equal(own.status, 204);
        assert.equal(own.headers['access-control-allow-origin'], relay.url);

        const foreign = await preflight(FOREIGN_ORIGIN);
        await refused(foreign, 403, 'origin-not-allowed');
        assert.equal(foreign.headers['access-control-allow-origin'], undefined);
        await refused(await raw(relay.url, path, { headers: { origin: FOREIGN_ORIGIN } }), 403, 'origin-not-allowed');
        await refused(await preflight(APP_ORIGIN, 'DELETE'), 405, 'method-not-allowed');
        // A no-cors load from another site carries no Origin, but Fetch Metadata gives it away.
        await refused(
          await raw(relay.url, path, { headers: { 'sec-fetch-site': 'cross-site' } }),
          403,
          'origin-not-allowed',
        );
        assert.equal(
          (await raw(relay.url, path, { headers: { 'sec-fetch-site': 'same-origin', accept: ACCEPT } })).status,
          200,
        );
      });

      it('logs one line per request without credentials or queries', async () => {
        const log = relay.output();
        assert.match(
          log,
          new RegExp(`GET ${registry.host.replace(/\./g, '\\.')} /v2/relay/app/manifests/v1 200 \\d+B \\d+ms`),
        );
        assert.match(log, /403 0B \d+ms host-not-allowed/);
        for (const secret of [
          'relay-test-secret-token',
          's3cret-password',
          'eyJ',
          'scope=',
          'signature=abc',
          'sid=secret',
        ]) {
          assert.ok(!log.includes(secret), `the log must not contain ${secret}`);
        }
      });
    });

    describe(`hardening on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env: { ...env, RELAY_CONCURRENCY: '4' } });
      });
      after(() => relay?.stop());
      const own = () => new URL(relay.url).origin;

      it('gives CORS headers to exact origins only: not another scheme or user information on its host', async () => {
        const path = `/relay/${registry.host}/v2/`;
        const ok = await raw(relay.url, path, { headers: { origin: own() } });
        assert.equal(ok.status, 200);
        assert.equal(ok.headers['access-control-allow-origin'], own());
        const { host } = new URL(relay.url);
        for (const other of [`https://${host}`, `http://x@${host}`, `http://${host}.`, 'null']) {
          const response = await raw(relay.url, path, { headers: { origin: other } });
          assert.equal(response.headers['access-control-allow-origin'], undefined, `${other} gets no CORS header`);
          await refused(response, 403, 'origin-not-allowed');
        }
      });

      it('refuses a request with two Host headers', async () => {
        const { hostname: h, port } = new URL(relay.url);
        const answer = await new Promise<string>((done, fail) => {
          const socket = connect(Number(port), h, () => {
            socket.end(
              `GET /relay/${registry.host}/v2/ HTTP/1.1\r\nHost: ${h}:${port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
            );
          });
          let data = '';
          socket.on('data', (c: Buffer) => (data += c.toString()));
          socket.on('end', () => done(data));
          socket.on('error', fail);
        });
        assert.match(answer, /^HTTP\/1\.1 400 /, answer.slice(0, 200));
      });

      it('never re-sends a token form to another host on a 307', async () => {
        const before = cdn.requests.length;
        const response = await raw(relay.url, `/relay/127.0.0.1:${origin.port}/moved/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password&username=alice&password=s3cret-password',
        });
        await refused(response, 502, 'redirect-not-allowed');
        assert.equal(cdn.requests.length, before, 'the other host got no request at all');
        // The message names the host that redirected, then where it pointed.
        assert.match(
          JSON.parse(response.body.toString()).error.message,
          new RegExp(`^127\\.0\\.0\\.1:${origin.port} redirected a token request \\(307\\) to localhost:${cdn.port};`),
        );
      });

      it('names a file: redirect target in its refusal', async () => {
        const response = await raw(relay.url, `/relay/127.0.0.1:${origin.port}/v2/r/blobs/file`);
        await refused(response, 403, 'redirect-not-allowed');
        assert.match(JSON.parse(response.body.toString()).error.message, /redirected to file:\/\/\/etc\/passwd, which/);
      });

      it('counts token POSTs still uploading their body among the requests in flight', async () => {
        const { hostname: h, port } = new URL(relay.url);
        const logStart = relay.output().length;
        const uploads = await Promise.all(
          Array.from(
            { length: 4 },
            () =>
              new Promise<Socket>((done) => {
                const socket = connect(Number(port), h, () => {
                  socket.write(
                    `POST /relay/127.0.0.1:${origin.port}/moved/token HTTP/1.1\r\nHost: ${h}:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a`,
                  );
                  done(socket);
                });
                socket.on('error', () => {});
              }),
          ),
        );
        try {
          await new Promise((r) => setTimeout(r, 500));
          await refused(await raw(relay.url, `/relay/${registry.host}/v2/`), 429, 'too-many-in-flight');
        } finally {
          for (const socket of uploads) socket.destroy();
        }
        // The client gave up on those: the log says so, not that the relay failed.
        const logged = () =>
          relay
            .output()
            .slice(logStart)
            .split('\n')
            .filter((l) => /POST .*\/moved\/token/.test(l));
        for (let i = 0; i < 50 && logged().length < 4; i++) await new Promise((r) => setTimeout(r, 100));
        const lines = logged();
        assert.equal(lines.length, 4, relay.output().slice(logStart));
        for (const line of lines) assert.match(line, / 499 0B \d+ms client-closed$/);
      });
    });

    describe(`plain http on ${runtime}`, () => {
      it('reaches loopback registries over plain http without RELAY_PLAIN_HTTP, as the engine does', async () => {
        const relay = await startRelay(runtime, { env: { ...env, RELAY_PLAIN_HTTP: '' } });
        try {
          const response = await raw(relay.url, `/relay/${registry.host}/v2/relay/app/manifests/v1`, {
            headers: { accept: ACCEPT },
          });
          assert.equal(response.status, 200, response.body.toString());
          assert.deepEqual(new Uint8Array(response.body), image.manifestBytes);
        } finally {
          await relay.stop();
        }
      });

      it('names RELAY_PLAIN_HTTP when https fails against a plain-http registry', async (t) => {
        if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
        const target = `${loopbackName}:${registry.host.split(':')[1]}`;
        const relay = await startRelay(runtime, {
          env: { ...env, RELAY_PLAIN_HTTP: '', RELAY_ALLOW_PRIVATE: `${env.RELAY_ALLOW_PRIVATE},${target}` },
        });
        try {
          const response = await raw(relay.url, `/relay/${target}/v2/`);
          await refused(response, 502, 'upstream-unreachable');
          assert.match(JSON.parse(response.body.toString()).error.message, /list it in RELAY_PLAIN_HTTP/);
        } finally {
          await relay.stop();
        }
      });
    });

    describe(`limits on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env: { ...env, RELAY_RATE_LIMIT: '8', RELAY_CONCURRENCY: '1' } });
      });
      after(() => relay?.stop());

      it('answers 429 with Retry-After past the per-client rate, and past the requests in flight', async () => {
        // One request streams slowly and holds the only slot until its body ends.
        const slow = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/slow`);
        assert.equal(slow.status, 200);
        const busy = await raw(relay.url, `/relay/${registry.host}/v2/`);
        await refused(busy, 429, 'too-many-in-flight');
        assert.ok(Number(busy.headers['retry-after']) >= 1);
        origin.releaseSlow();
        assert.equal(await slow.text(), 'slowdone');
        await new Promise((r) => setTimeout(r, 100));
        const free = await raw(relay.url, `/relay/${registry.host}/v2/`);
        assert.equal(free.status, 200, 'the slot is free again once the body ended');

        const statuses: number[] = [];
        let limited: RawResponse | undefined;
        for (let i = 0; i < 10; i++) {
          const response = await raw(relay.url, `/relay/example.com/v2/`);
          statuses.push(response.status);
          if (response.status === 429) limited ??= response;
        }
        assert.ok(limited, `expected a 429 among ${statuses.join(' ')}`);
        await refused(limited, 429, 'rate-limited');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
      });
    });
  }

  it('on Node, refuses a name that resolves to a private address (checked in DNS, at connect time)', async (t) => {
    if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
    const relay = await startNodeRelay({ env });
    try {
      await refused(
        await raw(relay.url, `/relay/${loopbackName}:${registry.host.split(':')[1]}/v2/`),
        403,
        'private-address',
      );
    } finally {
      await relay.stop();
    }
  });

  it('on Node, answers only to IP literals, localhost and RELAY_PUBLIC_URL (no DNS rebinding)', async () => {
    const relay = await startNodeRelay({ env: { ...env, RELAY_PUBLIC_URL: 'https://skiff.example' } });
    try {
      const path = `/relay/${registry.host}/v2/`;
      await refused(
        await raw(relay.url, path, { headers: { host: 'rebound.attacker.example:8080' } }),
        421,
        'unknown-host',
      );
      assert.equal((await raw(relay.url, path, { headers: { host: 'skiff.example' } })).status, 200);
      assert.equal((await raw(relay.url, path, { headers: { host: 'localhost:8080' } })).status, 200);
      // Behind a TLS proxy the realm must name the public URL, not the internal address.
      const challenged = await raw(relay.url, `/relay/${secure.host}/v2/`);
      assert.equal(challenged.status, 401);
      assert.equal(
        parseWwwAuthenticate(String(challenged.headers['www-authenticate']))[0]?.params.realm,
        `https://skiff.example/relay/${new URL(tokens.url).host}/token`,
      );
    } finally {
      await relay.stop();
    }
  });

  it('on workerd with the default (public egress) config, the platform refuses what resolves to a private address', async (t) => {
    if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
    const relay = await startRelay('workerd', { env, egress: 'public' });
    try {
      const response = await raw(relay.url, `/relay/${loopbackName}:${registry.host.split(':')[1]}/v2/`);
      await refused(response, 502, 'upstream-unreachable');
      // Even a host the relay allows as private stays out of reach: egress itself is public-only.
      await refused(await raw(relay.url, `/relay/${registry.host}/v2/`), 502, 'upstream-unreachable');
    } finally {
      await relay.stop();
    }
  });

  it('on Node, caps connections per peer and closes those that do not send headers in time', async () => {
    const relay = await startNodeRelay({
      env: { ...env, RELAY_MAX_CONNECTIONS_PER_CLIENT: '20', RELAY_HEADER_TIMEOUT: '2' },
    });
    const { port } = new URL(relay.url);
    // The flood comes from another loopback address, so it is another peer than the client below.
    const sockets: Socket[] = [];
    let closed = 0;
    try {
      for (let i = 0; i < 200; i++) {
        const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: '127.0.0.2' });
        socket.on('error', () => {});
        socket.resume(); // read the server's answer (a 408) and its close
        socket.once('close', () => closed++);
        socket.write(`GET /relay/${registry.host}/v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
        sockets.push(socket);
      }
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(closed >= 180, `connections past the per-peer cap are closed at once: ${closed} of 200`);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await raw(relay.url, `/relay/${registry.host}/v2/`)).status);
      assert.deepEqual(statuses, Array(10).fill(200), 'another client still gets answers');
      await new Promise((r) => setTimeout(r, 3_500));
      assert.equal(closed, 200, 'half-open connections are closed after the header time-out');
    } finally {
      for (const socket of sockets) socket.destroy();
      await relay.stop();
    }
  });

  describe('npm start server', () => {
    let dist: string;
    let withConfig: { path: string; remove(): void };

    before(async () => {
      if (!existsSync(join(root, 'dist/index.html')))
        await runCommand('npx', ['vite', 'build'], { cwd: root, timeoutMs: 300_000 });
      // A copy, so another build replacing dist/ meanwhile cannot race the assertions.
      withConfig = scratchDir('relay-dist');
      cpSync(join(root, 'dist'), withConfig.path, { recursive: true });
      dist = withConfig.path;
    });
    after(() => withConfig?.remove());

    it('serves the built app at / with content types, and config.json (deployed or generated)', async () => {
      const server = await startNodeRelay({ env, distDir: dist });
      try {
        const index = await fetch(`${server.url}/`);
        assert.equal(index.status, 200);
        assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(await index.text(), readFileSync(join(dist, 'index.html'), 'utf8'));
        const script = readdirSync(join(dist, 'assets')).find((f) => f.endsWith('.js'));
        if (script) {
          const asset = await fetch(`${server.url}/assets/${script}`);
          assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
          assert.deepEqual(await bytes(asset), readFileSync(join(dist, 'assets', script)));
        }
        const config = await fetch(`${server.url}/config.json`);
        assert.equal(config.status, 200);
        assert.match(config.headers.get('content-type') ?? '', /^application\/json/);
        if (existsSync(join(dist, 'config.json')))
          assert.equal(await config.text(), readFileSync(join(dist, 'config.json'), 'utf8'));
        else assert.deepEqual(await config.json(), { relay: '/relay' });
        const head = await raw(server.url, '/', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.byteLength, 0);

        for (const path of ['/../package.json', '/%2e%2e/package.json', '/assets/../../package.json', '/nope.js']) {
          assert.equal((await raw(server.url, path)).status, 404, path);
        }
        assert.equal((await raw(server.url, '/', { method: 'POST', body: 'x' })).status, 405);
        // The relay is mounted on the same origin.
        const relayed = await fetch(`${server.url}/relay/${registry.host}/v2/relay/app/manifests/v1`, {
          headers: { accept: ACCEPT },
        });
        assert.equal(relayed.status, 200);
        await relayed.body?.cancel();
      } finally {
        await server.stop();
      }

      writeFileSync(join(dist, 'config.json'), '{"relay":"https://relay.example/relay"}\n');
      const deployed = await startNodeRelay({ env, distDir: dist });
      try {
        assert.deepEqual(await (await fetch(`${deployed.url}/config.json`)).json(), {
          relay: 'https://relay.example/relay',
        });
      } finally {
        await deployed.stop();
      }
    });

    it('takes its settings as flags too, and stops with a clear message on a bad one', async () => {
      const server = await startNodeRelay({ distDir: dist, args: ['--allow', 'harbor.corp', '--origins=*'] });
      try {
        const refusedHub = await raw(server.url, '/relay/registry-1.docker.io/v2/');
        await refused(refusedHub, 403, 'host-not-allowed');
        assert.equal(refusedHub.headers['access-control-allow-origin'], '*');
      } finally {
        await server.stop();
      }
      await assert.rejects(
        startNodeRelay({ distDir: dist, args: ['--allow', '*.com'] }),
        /RELAY_ALLOW: Invalid host pattern/,
      );
    });
  });
});
