/**
 * The built app, as `npm start` serves it beside the relay: files from dist/ with their content types,
 * text compressed once per version (br or gzip), hashed assets cached for good, and a generated
 * config.json when none is deployed.
 */
import { type Stats, createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { relayErrorHeaders } from './errors.ts';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

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

export async function serveStatic(req: IncomingMessage, res: ServerResponse, distDir: string): Promise<void> {
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

export function sendJson(
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
    ...relayErrorHeaders(code, message),
    ...extra,
  });
  res.end(body);
}
