/**
 * `npm start`: serves the built app from dist/ and mounts the CORS relay under the same origin at /relay/.
 * Configuration comes from environment variables, or the same settings as flags (flags win); `--help` lists them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type RelayConfig, relayConfigFromEnv } from './config.ts';
import { knownHost } from './destination.ts';
import { type RelayHandler, type UpstreamFetch, createRelay } from './handler.ts';
import { createNodeFetch } from './node-fetch.ts';
import { sendJson, serveStatic } from './static.ts';
import { USAGE, envFromArgs } from './usage.ts';

export { knownHost } from './destination.ts';
export { chooseEncoding } from './static.ts';
export { USAGE, envFromArgs } from './usage.ts';

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
