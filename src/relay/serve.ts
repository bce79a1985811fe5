/**
 * `npm start`: serves the built app from dist/ and mounts the CORS relay under the same origin at /relay/.
 * Configuration comes from environment variables, or the same settings as flags (flags win); `--help` lists them.
 */
import { type Stats, createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { type RelayConfig, type RelayEnv, relayConfigFromEnv } from './config.ts';
import { type RelayHandler, type UpstreamFetch, createRelay } from './handler.ts';
import { createNodeFetch } from './node-fetch.ts';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

const FLAGS: Record<string, string> = {
  '--port': 'PORT',
  '--host': 'HOST',
  '--allow': 'RELAY_ALLOW',
  '--allow-private': 'RELAY_ALLOW_PRIVATE',
  '--allow-push': 'RELAY_ALLOW_PUSH',
  '--plain-http': 'RELAY_PLAIN_HTTP',
  '--origins': 'RELAY_ORIGINS',
  '--mirror': 'RELAY_DOCKERHUB_MIRROR',
  '--public-url': 'RELAY_PUBLIC_URL',
  '--client-ip-header': 'RELAY_CLIENT_IP_HEADER',
  '--rate-limit': 'RELAY_RATE_LIMIT',
  '--concurrency': 'RELAY_CONCURRENCY',
  '--max-connections': 'RELAY_MAX_CONNECTIONS',
  '--max-connections-per-client': 'RELAY_MAX_CONNECTIONS_PER_CLIENT',
  '--header-timeout': 'RELAY_HEADER_TIMEOUT',
  '--dist': 'RELAY_DIST',
};

export const USAGE = `Usage: node --import tsx src/relay/serve.ts [flags]   (npm start builds the app first)

Serves the app from dist/ and the CORS relay at /relay/<registry-host>/v2/...
Each flag also reads from the environment variable named beside it; flags win.

  --port N                PORT                    listen port (default 8080)
  --host ADDR             HOST                    listen address (default 127.0.0.1)
  --allow LIST            RELAY_ALLOW             registries the relay may reach: host[:port], *.suffix, cdn*.example.com;
                                                  "defaults" stands for the built-in public list (the default)
  --allow-private LIST    RELAY_ALLOW_PRIVATE     hosts allowed to be private/loopback addresses (also allowed by this)
  --allow-push LIST       RELAY_ALLOW_PUSH        registries the relay may push to (uploads, manifest PUTs); none by default
  --plain-http LIST       RELAY_PLAIN_HTTP        hosts reached over http instead of https
  --origins LIST          RELAY_ORIGINS           origins whose pages may use the relay, or * (default: its own origin)
  --mirror HOST[:PORT]    RELAY_DOCKERHUB_MIRROR  send registry-1.docker.io requests to this mirror
  --public-url URL        RELAY_PUBLIC_URL        the origin browsers use, when behind a TLS-terminating proxy
  --client-ip-header NAME RELAY_CLIENT_IP_HEADER  take the client address from this header (only behind a proxy that sets it)
  --rate-limit N          RELAY_RATE_LIMIT        requests per minute per client (default 600)
  --concurrency N         RELAY_CONCURRENCY       requests in flight per client (default 16)
  --max-connections N     RELAY_MAX_CONNECTIONS   open connections in all (default 2048)
  --max-connections-per-client N
                          RELAY_MAX_CONNECTIONS_PER_CLIENT  open connections per peer address (default 64;
                                                  not applied behind RELAY_CLIENT_IP_HEADER)
  --header-timeout S      RELAY_HEADER_TIMEOUT    seconds a client has to send a request's headers (default 10)
  --dist DIR              RELAY_DIST              the built app (default dist/)
`;

/** Flags (`--allow a,b` or `--allow=a,b`) over the environment. */
export function envFromArgs(argv: readonly string[], env: RelayEnv): Record<string, unknown> {
  const out: Record<string, unknown> = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const name = FLAGS[flag];
    if (!name) throw new Error(`Unknown argument ${JSON.stringify(arg)}.\n\n${USAGE}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`${flag} needs a value.`);
    out[name] = value;
  }
  return out;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ServeOptions {
  config: RelayConfig;
  host?: string;
  port?: number;
  distDir?: string;
  log?: (line: string) => void;
  /** Upstream fetch (default: node:http(s) with DNS answers checked). */
  fetch?: UpstreamFetch;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const distDir = resolve(options.distDir ?? 'dist');
  const log = options.log ?? ((line: string) => console.log(line));
  const relay = createRelay(options.config, { fetch: options.fetch ?? createNodeFetch(), log });
  const prefix = `${options.config.prefix}/`;

  // A connection that does not send its headers in time is closed (checked every second, not Node's 30 s).
  const timeouts = { headersTimeout: options.config.headerTimeoutMs, connectionsCheckingInterval: 1000 };
  const server = createServer(timeouts, (req, res) => {
    const target = req.url ?? '';
    // Node keeps the first of two Host headers; which one was meant is ambiguous, so nothing is served.
    if (req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i]!.toLowerCase() === 'host').length > 1) {
      req.resume();
      sendJson(res, 400, 'bad-request', 'The request has more than one Host header.', { connection: 'close' });
      return;
    }
    // Only origin-form targets: an absolute-form one ("GET http://x/") is a proxy request, which this is not.
    if (!target.startsWith('/')) {
      sendJson(res, 400, 'bad-request', 'Expected a path.');
      return;
    }
    if (!knownHost(req.headers.host, options.config.publicUrl)) {
      req.resume();
      sendJson(
        res,
        421,
        'unknown-host',
        `This server does not answer to the name ${JSON.stringify(req.headers.host ?? '')}; set RELAY_PUBLIC_URL to the URL browsers use.`,
      );
      return;
    }
    const handled = target.startsWith(prefix) ? relayRequest(relay, req, res) : serveStatic(req, res, distDir);
    handled.catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, 'internal', 'The server failed.');
      else res.destroy();
      console.error(error);
    });
  });
  limitConnections(server, options.config);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => done());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** The address to open: a server listening on every interface is opened on loopback. */
export function browserUrl(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/**
 * Half-open connections cost a socket each until the header time-out ends them: a cap in all and per peer
 * keeps one client from holding them all. Behind a proxy (RELAY_CLIENT_IP_HEADER) every peer is the proxy,
 * so there only the total applies.
 */
function limitConnections(server: Server, config: RelayConfig): void {
  server.maxConnections = config.maxConnections;
  if (config.clientIpHeader !== undefined) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress ?? 'unknown';
    const count = (open.get(peer) ?? 0) + 1;
    if (count > config.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    open.set(peer, count);
    socket.once('close', () => {
      const left = (open.get(peer) ?? 1) - 1;
      if (left <= 0) open.delete(peer);
      else open.set(peer, left);
    });
  });
}

/**
 * Answers only to IP literals, localhost, and the RELAY_PUBLIC_URL host. Against DNS rebinding: a foreign page
 * whose name is re-pointed at this server would otherwise be same-origin with it, and could use the relay
 * (and any private registries it reaches) from the visitor's network.
 */
export function knownHost(host: string | undefined, publicUrl: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  if (publicUrl !== undefined && new URL(publicUrl).hostname === name) return true;
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    /^\[[0-9a-f:.]+\]$/.test(name)
  );
}

/** Node request → web Request → relay → Node response, streaming both ways. */
async function relayRequest(relay: RelayHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  // The Request constructor refuses these outright; answer them the relay's way.
  if (['CONNECT', 'TRACE', 'TRACK'].includes(method)) {
    req.resume();
    sendJson(res, 405, 'method-not-allowed', `${method} is not allowed.`);
    return;
  }
  const aborter = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborter.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    try {
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    } catch {
      // not representable in fetch's Headers: none the relay reads
    }
  }
  let request: Request;
  try {
    const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
    request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
      method,
      headers,
      signal: aborter.signal,
      ...(withBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
    } as RequestInit);
  } catch {
    req.resume();
    sendJson(res, 400, 'bad-request', 'The request could not be read (check the Host header).');
    return;
  }
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') req.resume();
  const response = await relay(request, {
    clientAddress: req.socket.remoteAddress ?? 'unknown',
    rawUrl: req.url ?? '/',
  });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body || method === 'HEAD') {
    response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), res);
  } catch {
    // The client left or the upstream failed mid-body: the connection is already torn down, nothing to answer.
  }
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, distDir: string): Promise<void> {
  req.resume();
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    sendJson(res, 405, 'method-not-allowed', 'The app is served with GET and HEAD only.', { allow: 'GET, HEAD' });
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/config.json') {
    const file = join(distDir, 'config.json');
    // The app reads its defaults here; without a deployed one it needs to know only where the relay is.
    if (!existsSync(file)) {
      sendBody(
        res,
        method,
        200,
        'application/json; charset=utf-8',
        `${JSON.stringify({ relay: '/relay' })}\n`,
        'no-cache',
      );
      return;
    }
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path === '/' ? '/index.html' : path);
  } catch {
    sendJson(res, 400, 'bad-path', 'The path is not valid percent-encoding.');
    return;
  }
  const file = resolve(distDir, `.${decoded}`);
  if (decoded.includes('\0') || decoded.includes('\\') || !file.startsWith(distDir + sep)) {
    sendJson(res, 404, 'not-found', 'No such file.');
    return;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    if (decoded === '/index.html')
      sendJson(res, 503, 'not-built', 'The app is not built: run `npx vite build` (npm start does it).');
    else sendJson(res, 404, 'not-found', 'No such file.');
    return;
  }
  // Vite's hashed assets never change; everything else is checked again each time.
  const cache = decoded.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  const ext = extname(file).toLowerCase();
  const encoding = COMPRESSIBLE.has(ext) ? chooseEncoding(req.headers['accept-encoding']) : undefined;
  const body = encoding ? await compressedFile(file, info, encoding) : undefined;
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'content-length': body?.byteLength ?? info.size,
    'cache-control': cache,
    'x-content-type-options': 'nosniff',
    'last-modified': info.mtime.toUTCString(),
    ...(COMPRESSIBLE.has(ext) ? { vary: 'Accept-Encoding' } : {}),
    ...(encoding ? { 'content-encoding': encoding } : {}),
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  if (body) res.end(body);
  else await pipeline(createReadStream(file), res).catch(() => {});
}

/** The app's text files, served compressed to browsers that ask. Relayed registry bodies never are: digests cover their bytes. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);

/** br, else gzip, as the request's Accept-Encoding allows (a `q=0` refuses one). */
export function chooseEncoding(header: string | string[] | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name) accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const allows = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  return allows('br') ? 'br' : allows('gzip') ? 'gzip' : undefined;
}

/** Compressed once per file version and kept: the app is a few hundred kB of text. */
const compressedCache = new Map<string, Promise<Buffer>>();

function compressedFile(file: string, info: Stats, encoding: 'br' | 'gzip'): Promise<Buffer> {
  const key = `${encoding} ${file} ${info.size} ${info.mtimeMs}`;
  let cached = compressedCache.get(key);
  if (!cached) {
    cached = readFile(file).then((data) =>
      encoding === 'br'
        ? brotli(data, { params: { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength } })
        : gzip(data, { level: 9 }),
    );
    cached.catch(() => compressedCache.delete(key));
    compressedCache.set(key, cached);
  }
  return cached;
}

function sendBody(
  res: ServerResponse,
  method: string,
  status: number,
  type: string,
  body: string,
  cache: string,
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': cache,
    'x-content-type-options': 'nosniff',
  });
  res.end(method === 'HEAD' ? undefined : body);
}

function sendJson(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(body);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let env: Record<string, unknown>;
  let config: RelayConfig;
  let port: number;
  try {
    env = envFromArgs(argv, process.env);
    config = relayConfigFromEnv(env);
    const portText = typeof env.PORT === 'string' && env.PORT.trim() !== '' ? env.PORT.trim() : '8080';
    port = /^[0-9]+$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : NaN;
    if (Number.isNaN(port))
      throw new Error(`PORT must be a port number (0 picks a free one), not ${JSON.stringify(portText)}.`);
  } catch (error) {
    console.error(`skiff relay: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
    return;
  }
  const host = typeof env.HOST === 'string' && env.HOST.trim() !== '' ? env.HOST.trim() : '127.0.0.1';
  const distDir = typeof env.RELAY_DIST === 'string' && env.RELAY_DIST !== '' ? env.RELAY_DIST : 'dist';
  const running = await startServer({ config, host, port, distDir });
  console.log(
    `skiff relay listening on ${running.url} (app from ${resolve(distDir)}, relay at ${config.prefix}/; ` +
      `${config.allow.patterns.length} allowed host patterns, origins: ${config.origins === '*' ? '*' : ['own', ...config.origins].join(' ')})`,
  );
  console.log(`open ${browserUrl(running.url)}/ in your browser`);
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
