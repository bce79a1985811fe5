/**
 * The CORS relay: one fetch-style handler, web-standard APIs only, so the same code runs in Node
 * (src/relay/serve.ts) and on the Workers runtime (src/relay/worker.ts).
 *
 * `<prefix>/<registry-host[:port]>/<path>` is relayed to `https://<registry-host[:port]>/<path>` when the
 * host is allowed, the path is a registry API (`/v2/…`) or token endpoint path, and the method fits it.
 * Redirects are followed here, bodies stream through, and Bearer realms are rewritten to point back into
 * the relay, so the browser-side engine works unchanged. Each step is a module of its own: route.ts (the
 * path), cors.ts (which pages), limits.ts, write.ts (pushes), request-body.ts, destination.ts (where the
 * relay may connect), forward.ts (the request and its redirects), responses.ts, response-body.ts, log.ts.
 */
import type { RelayConfig } from './config.ts';
import { checkOrigin, corsHeaders, ownOrigins, preflight } from './cors.ts';
import { RelayError } from './errors.ts';
import { type RequestBody, type UpstreamFetch, UpstreamDeadline, forward, platformFetch } from './forward.ts';
import { ClientLimiter, admit, clientKey, holdSlot } from './limits.ts';
import { accessLog, describe } from './log.ts';
import { readRequestBody } from './request-body.ts';
import { passThrough } from './response-body.ts';
import { errorResponse, relayedHeaders } from './responses.ts';
import { isWrite, parseRelayPath, rawTarget, splitTarget } from './route.ts';
import { checkWrite } from './write.ts';

export type { UpstreamFetch, UpstreamInit } from './forward.ts';

export interface RelayHooks {
  /** Default: the platform's fetch with `redirect: 'manual'` (workerd); Node passes one that checks DNS answers. */
  fetch?: UpstreamFetch;
  /** One line per request. Default: console.log. */
  log?: (line: string) => void;
  now?: () => number;
}

export interface RequestContext {
  /** The peer's address, the key for per-client limits. */
  clientAddress?: string;
  /** The request target exactly as received, before any URL parser removed `..` segments. */
  rawUrl?: string;
}

export type RelayHandler = (request: Request, context?: RequestContext) => Promise<Response>;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export function createRelay(config: RelayConfig, hooks: RelayHooks = {}): RelayHandler {
  const upstreamFetch = hooks.fetch ?? platformFetch;
  const writeLog = hooks.log ?? ((line: string) => console.log(line));
  const now = hooks.now ?? Date.now;
  const limiter = new ClientLimiter(config.ratePerMinute, config.concurrency, now);

  return async (request, context = {}) => {
    const log = accessLog(request.method, writeLog, now);
    // Two Host headers arrive joined by a comma: which host was meant is ambiguous, so nothing is served.
    if ((request.headers.get('host') ?? '').includes(',')) {
      log.finish(400, 0, 'bad-host');
      return errorResponse(new RelayError(400, 'bad-request', 'The request has more than one Host header.'), undefined);
    }
    const requestUrl = new URL(request.url);
    const own = ownOrigins(config, requestUrl);
    const relayBase = `${own[0]}${config.prefix}`;
    const origin = request.headers.get('origin');
    const cors = corsHeaders(config.origins, origin, own);
    let release: (() => void) | undefined;
    try {
      const { path, query } = splitTarget(context.rawUrl ?? rawTarget(request.url));
      log.path = path;
      if (!path.startsWith(`${config.prefix}/`))
        throw new RelayError(404, 'not-found', `Relay requests look like ${config.prefix}/<registry-host>/v2/...`);

      const client = clientKey(config.clientIpHeader, request, context.clientAddress);
      admit(limiter, client);
      checkOrigin(config.origins, origin, request.headers.get('sec-fetch-site'), cors);
      if (request.method === 'OPTIONS') {
        const response = preflight(request, cors);
        log.finish(response.status, 0);
        return response;
      }

      const route = parseRelayPath(path.slice(config.prefix.length), query);
      log.host = route.host.host;
      log.path = route.path;
      // Counted before the body is read: a token POST still uploading is in flight too.
      release = holdSlot(limiter, client, config.concurrency);
      // A push's body is streamed on, not read here: only its host, path and origin are checked.
      let body: RequestBody;
      if (isWrite(request.method, route)) {
        checkWrite(config, route.host, origin, own);
        body = request.body;
      } else body = await readRequestBody(request, route, config.tokenBodyLimit);

      const deadline = new UpstreamDeadline(request, route.host.host, config.upstreamTimeoutMs);
      let upstream: Response;
      try {
        upstream = await forward(config, upstreamFetch, request, route, body, deadline.signal);
        deadline.answered();
      } catch (error) {
        deadline.done();
        throw deadline.failure(config, route, error);
      }

      const headers = relayedHeaders(config, upstream, route, cors, relayBase);
      const status = upstream.status;
      const declared = upstream.headers.get('content-length');
      const limit = route.kind === 'token' ? config.tokenResponseLimit : undefined;
      if (limit !== undefined && declared !== null && Number(declared) > limit) {
        upstream.body?.cancel().catch(() => {});
        deadline.done();
        throw new RelayError(502, 'upstream-too-large', `The token endpoint's answer is larger than ${limit} bytes.`);
      }
      if (request.method === 'HEAD' || upstream.body === null || NULL_BODY_STATUSES.has(status)) {
        upstream.body?.cancel().catch(() => {});
        deadline.done();
        release();
        log.finish(status, 0);
        return new Response(null, { status, headers });
      }
      const doneWith = release;
      release = undefined; // the body's end releases it now
      const relayed = passThrough(upstream.body, declared, {
        limit,
        idleMs: config.upstreamTimeoutMs,
        onIdle: () => deadline.stalled(),
        onEnd: (bytes, outcome) => {
          deadline.done();
          doneWith();
          log.finish(status, bytes, outcome === 'ok' ? '' : outcome);
        },
      });
      return new Response(relayed, { status, headers });
    } catch (error) {
      release?.();
      const failure =
        error instanceof RelayError ? error : new RelayError(500, 'internal', `The relay failed: ${describe(error)}`);
      log.finish(failure.status, 0, failure.code);
      return errorResponse(failure, cors);
    }
  };
}
