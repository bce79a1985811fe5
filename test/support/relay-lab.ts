/**
 * What the relay's integration suites share: real registries on loopback (distribution 2.8, open and with
 * token auth), a small redirecting origin and a "CDN", the relay settings that name them, and requests with
 * the path exactly as written.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { isPublicAddress } from '../../src/relay/hosts.ts';
import { MediaType, SMALL_CONFIG, pushImage, smallLayers, type PushedImage } from './images.ts';
import { pushBlob, startRegistry, type Registry } from './registry.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

export const root = resolve(import.meta.dirname, '../..');
export const ACCEPT = [
  MediaType.ociManifest,
  MediaType.dockerManifest,
  MediaType.ociIndex,
  MediaType.dockerManifestList,
].join(', ');
export const FOREIGN_ORIGIN = 'http://evil.example';
export const APP_ORIGIN = 'http://app.example';
export const SECRET_BEARER = 'Bearer relay-test-secret-token';

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
}

export interface TestServer {
  port: number;
  requests: Recorded[];
  stop(): Promise<void>;
}

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port };
}

export function stopper(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
}

/** The "CDN": records what arrives (above all, whether Authorization did) and serves fixed bytes. */
export async function startCdn(): Promise<TestServer> {
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
export async function startOrigin(
  cdnPort: number,
  unlistedPort: number,
): Promise<TestServer & { releaseSlow(): void }> {
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

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as written: fetch would resolve `..` before sending it. */
export function raw(
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
export function errorCode(response: RawResponse): string {
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

export async function refused(response: RawResponse | Response, status: number, code: string): Promise<void> {
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

export async function bytes(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

export const sha256 = (data: Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface RelayLab {
  registry: Registry;
  tokens: TokenServer;
  secure: Registry;
  cdn: TestServer;
  origin: Awaited<ReturnType<typeof startOrigin>>;
  unlisted: TestServer;
  image: PushedImage;
  secureImage: PushedImage;
  bigBlob: { digest: string; data: Buffer };
  /** A name that is not "localhost" yet resolves to loopback, if this machine has one. */
  loopbackName: string | undefined;
  /** RELAY_* settings naming all of the above. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startRelayLab(): Promise<RelayLab> {
  const registry = await startRegistry();
  const tokens = await startTokenServer({ anonymousPull: ['relay/*'], users: { alice: 's3cret-password' } });
  const secure = await startRegistry({ auth: { token: tokens } });
  const cdn = await startCdn();
  const unlisted = await startCdn();
  const origin = await startOrigin(cdn.port, unlisted.port);
  const spec = { format: 'oci' as const, layers: smallLayers(), config: SMALL_CONFIG };
  const image = await pushImage(registry, 'relay/app', 'v1', spec);
  const secureImage = await pushImage(secure, 'relay/secure', 'v1', spec);
  const data = randomBytes(6 * 1024 * 1024 + 123);
  const bigBlob = { digest: (await pushBlob(registry, 'relay/app', data)).digest, data };

  // A name that is not "localhost" yet resolves to loopback: the Node relay must catch it from DNS.
  const name = hostname().toLowerCase();
  const addresses = await lookup(name, { all: true }).catch(() => []);
  const loopbackName =
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
  const env = {
    RELAY_ALLOW: publicOnly.join(','),
    RELAY_ALLOW_PRIVATE: reachable.join(','),
    RELAY_PLAIN_HTTP: [...reachable, ...publicOnly].join(','),
    RELAY_ORIGINS: APP_ORIGIN,
    RELAY_DOCKERHUB_MIRROR: registry.host,
  };
  return {
    registry,
    tokens,
    secure,
    cdn,
    origin,
    unlisted,
    image,
    secureImage,
    bigBlob,
    loopbackName,
    env,
    async stop() {
      await Promise.all([registry.stop(), secure.stop(), cdn.stop(), unlisted.stop(), origin.stop()]);
      await tokens.stop();
    },
  };
}
