/**
 * The relay's upstream fetch on Node, built on node:http(s) rather than the global fetch because it must:
 * check every address a name resolves to at connect time (in the socket's own DNS lookup, so a name cannot
 * change its answer between the check and the connection), leave bodies undecoded (digests are over the
 * bytes as stored), and never follow redirects itself.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { refusedAddresses } from './destination.ts';
import { RelayError } from './errors.ts';
import type { UpstreamFetch } from './forward.ts';

/** dns.lookup with `all: true`, the only form the guard uses (replaceable in tests). */
export type LookupAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const PRIVATE_CODE = 'ERR_RELAY_PRIVATE_ADDRESS';

/** A socket lookup that refuses a name when the destination policy refuses its addresses. */
export function guardedLookup(allowPrivate: boolean, lookup: LookupAll = dnsLookup as LookupAll): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = refusedAddresses(hostname, addresses, allowPrivate);
      if (refused) return callback(Object.assign(new Error(refused.message), { code: PRIVATE_CODE, refused }), '', 0);
      if (addresses.length === 0)
        return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export function createNodeFetch(options: { lookup?: LookupAll } = {}): UpstreamFetch {
  // Keep-alive pools: registry pulls are many requests to few hosts. Pool keys include host and port, and
  // whether private addresses are allowed depends only on those, so a pooled socket was vetted the same way.
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
      const headers: Record<string, string> = {};
      init.headers.forEach((value, name) => {
        headers[name] = value;
      });
      if (init.body instanceof Uint8Array) headers['content-length'] = String(init.body.byteLength);
      const request = (protocol === 'https:' ? https : http).request(
        target,
        {
          method: init.method,
          headers,
          agent: agents[protocol],
          lookup: guardedLookup(init.allowPrivate, options.lookup),
          signal: init.signal,
        },
        (res) => {
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            try {
              responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            } catch {
              // a header value fetch's Headers refuses: not one the relay passes on anyway
            }
          }
          const status = res.statusCode ?? 502;
          const nullBody = init.method === 'HEAD' || status === 204 || status === 205 || status === 304;
          if (nullBody) res.resume();
          try {
            resolve(new Response(nullBody ? null : streamOf(res), { status, headers: responseHeaders }));
          } catch (error) {
            res.destroy();
            reject(error);
          }
        },
      );
      request.on('error', (error: NodeJS.ErrnoException & { refused?: unknown }) => {
        reject(error.code === PRIVATE_CODE && error.refused instanceof RelayError ? error.refused : error);
      });
      if (init.body instanceof ReadableStream) {
        // A streamed upload: chunk by chunk, waiting for the socket (backpressure), never gathered.
        void pipeBody(init.body, request);
      } else {
        request.end(init.body ?? undefined);
      }
    });
}

async function pipeBody(body: ReadableStream<Uint8Array>, request: http.ClientRequest): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!request.write(value)) await new Promise((resolve) => request.once('drain', resolve));
    }
    request.end();
  } catch (error) {
    request.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

/** An IncomingMessage as a web stream with backpressure (pause when the queue is full, resume on pull). */
function streamOf(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          controller.error(error);
        };
        res.on('error', fail);
        res.on('close', () => fail(new Error('the upstream connection closed before the body ended')));
      },
      pull() {
        res.resume();
      },
      cancel() {
        settled = true;
        res.destroy();
      },
    },
    { highWaterMark: 256 * 1024, size: (chunk) => chunk.byteLength },
  );
}
