/**
 * The CORS relay: one fetch-style handler, web-standard APIs only, so the same code runs in Node
 * (src/relay/serve.ts) and on the Workers runtime (src/relay/worker.ts).
 *
 * `<prefix>/<registry-host[:port]>/<path>` is relayed to `https://<registry-host[:port]>/<path>` when the
 * host is allowed, the path is a registry API (`/v2/…`) or token endpoint path, and the method fits it.
 * Redirects are followed here, bodies stream through, and Bearer realms are rewritten to point back into
 * the relay, so the browser-side engine works unchanged.
 */
import { readAtMost } from '../core/bytes.ts';
import { isLoopbackHost } from '../core/reference.ts';
import { type Challenge, parseWwwAuthenticate } from '../core/transport/challenge.ts';
import type { RelayConfig } from './config.ts';
import { RelayError } from './errors.ts';
import { type TargetHost, isLocalName, isPublicAddress, parseHost } from './hosts.ts';
import { ClientLimiter } from './limits.ts';

export interface UpstreamInit {
  method: string;
  headers: Headers;
  /** A token request's form body, or a push's upload or manifest streamed through as it arrives. */
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
  /** Whether the host may resolve to a private address (a platform that resolves names itself checks this). */
  allowPrivate: boolean;
}

/** Fetches one hop without following redirects. */
export type UpstreamFetch = (url: string, init: UpstreamInit) => Promise<Response>;

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

const FORWARDED_REQUEST_HEADERS = ['accept', 'authorization', 'if-none-match', 'range'];
/** Sent on with pushes (RELAY_ALLOW_PUSH hosts only). */
const FORWARDED_WRITE_HEADERS = ['content-type', 'content-length', 'content-range'];
const PASSED_RESPONSE_HEADERS = [
  'docker-upload-uuid',
  'range',
  'content-type',
  'content-length',
  'content-range',
  'content-encoding',
  'docker-content-digest',
  'docker-distribution-api-version',
  'etag',
  'link',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
  'www-authenticate',
];
/** Tag pages (Link) and Docker Hub's pull quota (RateLimit-*) too: a page behind a shared relay must see them. */
const EXPOSED_HEADERS =
  'Content-Length, Content-Range, Content-Type, Docker-Content-Digest, Docker-Distribution-Api-Version, Docker-Upload-UUID, ETag, Link, Location, Range, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH';
const ALLOWED_HEADERS = 'Authorization, Accept, Range, Content-Type, Content-Range';
/** The distribution API's write paths: starting an upload, its chunks and commit, and a manifest PUT. */
const UPLOAD_START = /^\/v2\/[^?]+\/blobs\/uploads\/?$/;
const UPLOAD_SESSION = /^\/v2\/[^?]+\/blobs\/uploads\/[^/]+$/;
const MANIFEST = /^\/v2\/[^?]+\/manifests\/[^/]+$/;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const MAX_REDIRECTS = 10;

type PathKind = 'registry' | 'token';

interface Route {
  /** The host the client named (before any mirror substitution). */
  host: TargetHost;
  /** Path as received (still percent-encoded) and query including its `?`. */
  path: string;
  query: string;
  kind: PathKind;
}

interface Destination {
  host: TargetHost;
  scheme: 'http:' | 'https:';
  allowPrivate: boolean;
}

const platformFetch: UpstreamFetch = (url, init) =>
  fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    redirect: 'manual',
    // A streamed request body (a push) needs half-duplex in Node's fetch; workerd ignores the field.
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);

export function createRelay(config: RelayConfig, hooks: RelayHooks = {}): RelayHandler {
  const upstreamFetch = hooks.fetch ?? platformFetch;
  const log = hooks.log ?? ((line: string) => console.log(line));
  const now = hooks.now ?? Date.now;
  const limiter = new ClientLimiter(config.ratePerMinute, config.concurrency, now);

  /** Allowlist, scheme and address checks for a host the relay is about to contact. */
  function destination(host: TargetHost, useMirror: boolean): Destination {
    const mirror = config.dockerHubMirror;
    const target =
      useMirror && mirror && host.hostname === 'registry-1.docker.io' && host.port === undefined ? mirror : host;
    // The operator named the mirror, so it is allowed (its token realm too); it still needs RELAY_ALLOW_PRIVATE to be private.
    const isMirror = mirror !== undefined && target.hostname === mirror.hostname && target.port === mirror.port;
    if (!isMirror && !config.allow.has(target)) {
      throw new RelayError(403, 'host-not-allowed', `${target.host} is not on this relay's allowlist (RELAY_ALLOW).`);
    }
    const allowPrivate = config.allowPrivate.has(target);
    if (!allowPrivate && ((target.ip !== undefined && !isPublicAddress(target.ip)) || isLocalName(target.hostname))) {
      throw new RelayError(
        403,
        'private-address',
        `${target.host} is a private, loopback or link-local address; the relay only reaches those listed in RELAY_ALLOW_PRIVATE.`,
      );
    }
    return { host: target, scheme: schemeFor(target), allowPrivate };
  }

  /** Plain http for hosts RELAY_PLAIN_HTTP lists, and for loopback ones as the engine (and Docker) do. */
  function schemeFor(target: TargetHost): 'http:' | 'https:' {
    return config.plainHttp.has(target) || isLoopbackHost(target.host) ? 'http:' : 'https:';
  }

  /** The same checks for an absolute URL (a redirect target or a token realm). */
  function destinationForUrl(url: URL): Destination {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RelayError(
        403,
        'scheme-not-allowed',
        `The relay only follows http and https URLs, not ${url.protocol}`,
      );
    }
    if (url.username || url.password) throw new RelayError(403, 'bad-host', 'A URL with user information was refused.');
    const target = destination(parseHost(url.host), false);
    if (url.protocol === 'http:' && target.scheme !== 'http:') {
      throw new RelayError(
        403,
        'scheme-not-allowed',
        `${target.host} is reached over https only (RELAY_PLAIN_HTTP does not list it); refusing plain http.`,
      );
    }
    return { ...target, scheme: url.protocol };
  }

  /** `realm="https://auth.docker.io/token"` → `realm="<origin><prefix>/auth.docker.io/token"` when the relay would take that URL. */
  function rewriteChallenges(header: string, relayBase: string): string {
    let challenges: Challenge[];
    try {
      challenges = parseWwwAuthenticate(header);
    } catch {
      return header; // not ours to repair: the client reports the registry's malformed header
    }
    let changed = false;
    for (const challenge of challenges) {
      const realm = challenge.params.realm;
      if (challenge.scheme !== 'bearer' || realm === undefined) continue;
      let url: URL;
      try {
        url = new URL(realm);
        const target = destinationForUrl(url);
        // The relay dials the scheme from its own settings: a realm in another scheme cannot go through it.
        if (target.scheme !== schemeFor(target.host)) continue;
        classifyPath(url.pathname);
      } catch {
        continue; // not relayable: passed on untouched, and requests to it are refused
      }
      challenge.params.realm = `${relayBase}/${url.host}${url.pathname}${url.search}`;
      changed = true;
    }
    return changed ? challenges.map(serializeChallenge).join(', ') : header;
  }

  async function forward(
    request: Request,
    route: Route,
    body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null,
    signal: AbortSignal,
  ): Promise<Response> {
    const first = destination(route.host, true);
    const headers = new Headers();
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    if (body instanceof ReadableStream) {
      for (const name of FORWARDED_WRITE_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
    } else if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
    // Bytes must arrive as the registry stores them: digests are over the stored bytes.
    headers.set('accept-encoding', 'identity');
    headers.set('user-agent', 'skiff-relay');

    let url = new URL(`${first.scheme}//${first.host.host}${route.path}${route.query}`);
    let target = first;
    let method = request.method;
    let payload = body;
    const firstOrigin = url.origin;
    for (let hop = 0; ; hop++) {
      const response = await upstreamFetch(url.href, {
        method,
        headers,
        body: payload,
        signal,
        allowPrivate: target.allowPrivate,
      });
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return response;
      // A streamed body cannot be sent twice: a redirected push ends here.
      if (payload instanceof ReadableStream)
        throw new RelayError(
          502,
          'redirect-not-allowed',
          `${target.host.host} redirected a push; the relay does not follow that.`,
        );
      response.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS)
        throw new RelayError(
          502,
          'too-many-redirects',
          `More than ${MAX_REDIRECTS} redirects starting at ${route.host.host}.`,
        );
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RelayError(502, 'bad-redirect', `${target.host.host} redirected to an invalid URL.`);
      }
      try {
        target = destinationForUrl(next);
      } catch (error) {
        if (error instanceof RelayError) {
          throw new RelayError(
            error.status,
            'redirect-not-allowed',
            `${target.host.host} redirected to ${shownUrl(next)}, which this relay does not reach: ${error.message}`,
          );
        }
        throw error;
      }
      // Credentials are for the host the client named: never for a CDN or anyone else.
      if (next.origin !== firstOrigin) headers.delete('authorization');
      // 307/308 keep method and body; a token form (a password, maybe) goes to no host but the one named.
      if (payload !== null && (response.status === 307 || response.status === 308) && next.origin !== firstOrigin) {
        throw new RelayError(
          502,
          'redirect-not-allowed',
          `${target.host.host} redirected a token request (${response.status}) to ${next.host}; the relay does not send its form to another host.`,
        );
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        payload = null;
        headers.delete('content-type');
      }
      url = next;
    }
  }

  /** A write (upload, manifest PUT) passes only to RELAY_ALLOW_PUSH hosts, from no page or an allowed one. */
  function checkWrite(
    request: Request,
    route: Route,
    origin: string | null,
    selfOrigin: string,
    requestHost: string,
  ): ReadableStream<Uint8Array> | null {
    if (!config.allowPush.has(route.host)) {
      throw new RelayError(
        403,
        'push-not-allowed',
        `${route.host.host} is not on this relay's push list (RELAY_ALLOW_PUSH): the relay does not write to it.`,
      );
    }
    // RELAY_ORIGINS=* lets any page read; writing needs the relay's own page or one listed by name.
    if (origin !== null) {
      let same: boolean;
      try {
        same = origin === selfOrigin || new URL(origin).host === requestHost;
      } catch {
        same = false;
      }
      if (!same && (config.origins === '*' || !config.origins.includes(origin)))
        throw new RelayError(
          403,
          'origin-not-allowed',
          `Pages from ${origin} may not push through this relay (RELAY_ORIGINS must name them).`,
        );
    }
    return request.body;
  }

  return async (request, context = {}) => {
    const started = now();
    let host = '-';
    let loggedPath = '-';
    const finish = (status: number, bytes: number | undefined, note = '') => {
      log(
        `${new Date(started).toISOString()} ${clean(request.method)} ${host} ${clean(loggedPath)} ${status} ${bytes ?? '?'}B ${Math.round(now() - started)}ms${note ? ` ${note}` : ''}`,
      );
    };
    // Two Host headers arrive joined by a comma: which host was meant is ambiguous, so nothing is served.
    if ((request.headers.get('host') ?? '').includes(',')) {
      finish(400, 0, 'bad-host');
      return errorResponse(new RelayError(400, 'bad-request', 'The request has more than one Host header.'), undefined);
    }
    const requestUrl = new URL(request.url);
    const selfOrigin = config.publicUrl ?? requestUrl.origin;
    const origin = request.headers.get('origin');
    const cors = corsHeaders(config, origin, selfOrigin, requestUrl.origin);
    let release: (() => void) | undefined;
    try {
      const raw = context.rawUrl ?? rawTarget(request.url);
      const queryAt = raw.indexOf('?');
      const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
      const query = queryAt < 0 ? '' : raw.slice(queryAt);
      loggedPath = path;
      if (!path.startsWith(`${config.prefix}/`))
        throw new RelayError(404, 'not-found', `Relay requests look like ${config.prefix}/<registry-host>/v2/...`);

      // With a list (X-Forwarded-For), the last entry is the one the nearest proxy added; earlier ones are the client's say-so.
      const client =
        (config.clientIpHeader && request.headers.get(config.clientIpHeader)?.split(',').pop()?.trim()) ||
        context.clientAddress ||
        'unknown';
      const wait = limiter.take(client);
      if (wait !== undefined) {
        throw new RelayError(429, 'rate-limited', `Too many requests from this client; try again in ${wait} s.`, {
          'retry-after': String(wait),
        });
      }
      if (!cors)
        throw new RelayError(403, 'origin-not-allowed', `Pages from ${origin} may not use this relay (RELAY_ORIGINS).`);
      // No-cors loads (<img>, <script>) carry no Origin; Fetch Metadata still tells a foreign page's request apart.
      const site = request.headers.get('sec-fetch-site');
      if (origin === null && config.origins !== '*' && (site === 'cross-site' || site === 'same-site')) {
        throw new RelayError(
          403,
          'origin-not-allowed',
          'Requests from other sites must be CORS requests from an allowed origin (RELAY_ORIGINS).',
        );
      }
      if (request.method === 'OPTIONS') {
        const response = preflight(request, cors);
        finish(response.status, 0);
        return response;
      }

      const route = parseRelayPath(path.slice(config.prefix.length), query);
      host = route.host.host;
      loggedPath = route.path;
      // Counted before the body is read: a token POST still uploading is in flight too.
      release = limiter.acquire(client);
      if (!release) {
        throw new RelayError(
          429,
          'too-many-in-flight',
          `More than ${config.concurrency} requests from this client are in progress; try again shortly.`,
          { 'retry-after': '1' },
        );
      }
      // A push's body is streamed on, not read here: only its host, path and origin are checked.
      const body = isWrite(request.method, route)
        ? checkWrite(request, route, origin, selfOrigin, requestUrl.host)
        : await checkMethodAndBody(request, route, config.tokenBodyLimit);

      const controller = new AbortController();
      const clientGone = () => controller.abort(new RelayError(499, 'client-closed', 'The client went away.'));
      if (request.signal.aborted) clientGone();
      request.signal.addEventListener('abort', clientGone, { once: true });
      const timer = setTimeout(
        () =>
          controller.abort(
            new RelayError(
              504,
              'upstream-timeout',
              `${route.host.host} did not answer within ${config.upstreamTimeoutMs / 1000} s.`,
            ),
          ),
        config.upstreamTimeoutMs,
      );
      let upstream: Response;
      try {
        upstream = await forward(request, route, body, controller.signal);
      } catch (error) {
        if (controller.signal.reason instanceof RelayError) throw controller.signal.reason;
        if (error instanceof RelayError) throw error;
        const reason = describe(error);
        // A plain-http registry answered TLS with http: say which setting is missing.
        // workerd reports only "internal error" there, so a private host reached over https gets the hint too.
        const tried = destination(route.host, true);
        const hint =
          tried.scheme === 'https:' && (/ssl|tls|wrong version|eproto|handshake/i.test(reason) || tried.allowPrivate)
            ? ` If ${route.host.host} speaks plain http, list it in RELAY_PLAIN_HTTP.`
            : '';
        throw new RelayError(502, 'upstream-unreachable', `Could not reach ${route.host.host}: ${reason}.${hint}`);
      } finally {
        clearTimeout(timer);
      }

      const headers = new Headers(cors);
      for (const name of PASSED_RESPONSE_HEADERS) {
        const value = upstream.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      // Upload sessions name where the next chunk goes: through the relay again, for the same host only.
      const location = upstream.headers.get('location');
      if (location !== null && route.kind === 'registry') {
        const next = relayedLocation(location, route, `${selfOrigin}${config.prefix}`);
        if (next) headers.set('location', next);
      }
      const challenge = headers.get('www-authenticate');
      if (challenge !== null)
        headers.set('www-authenticate', rewriteChallenges(challenge, `${selfOrigin}${config.prefix}`));
      addSafetyHeaders(headers);

      const status = upstream.status;
      const declared = upstream.headers.get('content-length');
      const limit = route.kind === 'token' ? config.tokenResponseLimit : undefined;
      if (limit !== undefined && declared !== null && Number(declared) > limit) {
        upstream.body?.cancel().catch(() => {});
        throw new RelayError(502, 'upstream-too-large', `The token endpoint's answer is larger than ${limit} bytes.`);
      }
      if (request.method === 'HEAD' || upstream.body === null || NULL_BODY_STATUSES.has(status)) {
        upstream.body?.cancel().catch(() => {});
        release();
        finish(status, 0);
        return new Response(null, { status, headers });
      }
      const doneWith = release;
      release = undefined; // the body's end releases it now
      const body$ = passThrough(upstream.body, declared, {
        limit,
        idleMs: config.upstreamTimeoutMs,
        onIdle: () => controller.abort(new RelayError(504, 'upstream-timeout', 'The upstream body stalled.')),
        onEnd: (bytes, outcome) => {
          request.signal.removeEventListener('abort', clientGone);
          doneWith();
          finish(status, bytes, outcome === 'ok' ? '' : outcome);
        },
      });
      return new Response(body$, { status, headers });
    } catch (error) {
      release?.();
      const failure =
        error instanceof RelayError ? error : new RelayError(500, 'internal', `The relay failed: ${describe(error)}`);
      finish(failure.status, 0, failure.code);
      return errorResponse(failure, cors);
    }
  };
}

function isWrite(method: string, route: Route): boolean {
  if (route.kind !== 'registry') return false;
  if (method === 'POST') return UPLOAD_START.test(route.path);
  if (method === 'PATCH') return UPLOAD_SESSION.test(route.path);
  if (method === 'PUT') return UPLOAD_SESSION.test(route.path) || MANIFEST.test(route.path);
  return false;
}

/** An upload Location as a relay URL, when it stays on the route's host (relative ones always do). */
function relayedLocation(location: string, route: Route, relayBase: string): string | undefined {
  let next: URL;
  const base = `http://${route.host.host}${route.path}`;
  try {
    next = new URL(location, base);
  } catch {
    return undefined;
  }
  if (next.host !== new URL(base).host) return undefined;
  return `${relayBase}/${route.host.host}${next.pathname}${next.search}`;
}

/** `path` is `/<host>/<rest>`: validated as written, then split. */
function parseRelayPath(path: string, query: string): Route {
  const slash = path.indexOf('/', 1);
  const hostText = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const rest = slash < 0 ? '' : path.slice(slash);
  checkPathSyntax(path);
  const host = parseHost(hostText);
  return { host, path: rest, query, kind: classifyPath(rest) };
}

/** Refuses what could make the registry see another path than the allowlist and the route checks saw. */
function checkPathSyntax(path: string): void {
  const bad = (what: string) => new RelayError(400, 'bad-path', `The path was refused: ${what}.`);
  if (path.includes('\\') || /%5c/i.test(path)) throw bad('it contains a backslash');
  if (/%2f/i.test(path)) throw bad('it contains an encoded slash (%2F)');
  // Control characters are what this check looks for.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(path) || /%(?:[01][0-9a-f]|7f)/i.test(path))
    throw bad('it contains control characters or spaces');
  const segments = path.split('/').slice(1);
  segments.forEach((segment, index) => {
    const dots = segment.replace(/%2e/gi, '.');
    if (dots === '.' || dots === '..') throw bad('it contains a "." or ".." segment');
    if (segment === '' && index > 0 && index < segments.length - 1) throw bad('it contains an empty segment ("//")');
  });
}

/** `/v2/…` is the registry API; outside it only token endpoint paths (last segment `token` or `auth`) are relayed. */
function classifyPath(path: string): PathKind {
  if (path === '/v2/token' || path === '/v2/auth') return 'token';
  if (path.startsWith('/v2/')) return 'registry';
  if (/^(?:\/[^/]+)*\/(?:token|auth)\/?$/i.test(path)) return 'token';
  throw new RelayError(403, 'path-not-allowed', 'Only registry API paths (/v2/...) and token endpoints are relayed.');
}

async function checkMethodAndBody(
  request: Request,
  route: Route,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const allow = route.kind === 'token' ? 'GET, HEAD, POST, OPTIONS' : 'GET, HEAD, OPTIONS';
  const method = request.method;
  if (method === 'GET' || method === 'HEAD') {
    const length = request.headers.get('content-length');
    if ((length !== null && length !== '0') || request.headers.has('transfer-encoding')) {
      throw new RelayError(400, 'body-not-allowed', `${method} requests carry no body here.`);
    }
    return null;
  }
  if (method !== 'POST' || route.kind !== 'token') {
    throw new RelayError(405, 'method-not-allowed', `${clean(method)} is not allowed here; the relay takes ${allow}.`, {
      allow,
    });
  }
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new RelayError(415, 'unsupported-media-type', 'Token requests must be application/x-www-form-urlencoded.');
  }
  const tooLarge = () => new RelayError(413, 'body-too-large', `Token request bodies are limited to ${limit} bytes.`);
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const body = await readAtMost(request.body, limit);
  if (!body) throw tooLarge();
  return body;
}

/** CORS headers for an allowed origin (none needed without one); undefined when the origin is refused. */
function corsHeaders(
  config: RelayConfig,
  origin: string | null,
  selfOrigin: string,
  requestOrigin: string,
): Record<string, string> | undefined {
  if (config.origins === '*')
    return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
  const vary = { vary: 'Origin' };
  if (origin === null) return vary;
  // Exact origins only (scheme, host and port, as browsers write them): the relay's own, or one listed. The
  // same host on another scheme, or with user information, is another origin.
  const sameSite = origin === selfOrigin || origin === requestOrigin;
  if (!sameSite && !config.origins.includes(origin)) return undefined;
  return { ...vary, 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS };
}

function preflight(request: Request, cors: Record<string, string>): Response {
  const wanted = request.headers.get('access-control-request-method');
  if (wanted !== null && !['GET', 'HEAD', 'POST', 'PUT', 'PATCH'].includes(wanted)) {
    throw new RelayError(
      405,
      'method-not-allowed',
      `${clean(wanted)} is not allowed; the relay takes ${ALLOWED_METHODS}.`,
      { allow: `${ALLOWED_METHODS}, OPTIONS` },
    );
  }
  const headers = new Headers(cors);
  headers.set('access-control-allow-methods', ALLOWED_METHODS);
  headers.set('access-control-allow-headers', ALLOWED_HEADERS);
  headers.set('access-control-max-age', '600');
  return new Response(null, { status: 204, headers });
}

/** Relayed bytes are never a page of the app's origin: no sniffing, no scripts, not embeddable elsewhere. */
function addSafetyHeaders(headers: Headers): void {
  headers.set('x-content-type-options', 'nosniff');
  headers.set('content-security-policy', "default-src 'none'; sandbox");
  headers.set('cross-origin-resource-policy', 'same-origin');
}

function errorResponse(error: RelayError, cors: Record<string, string> | undefined): Response {
  const headers = new Headers(cors);
  headers.set('content-type', 'application/json; charset=utf-8');
  headers.set('cache-control', 'no-store');
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  addSafetyHeaders(headers);
  return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), {
    status: error.status,
    headers,
  });
}

/** Rebuilds a challenge with every parameter quoted and escaped (RFC 9110 §5.6.4). */
export function serializeChallenge(challenge: Challenge): string {
  const scheme = challenge.scheme === 'bearer' ? 'Bearer' : challenge.scheme === 'basic' ? 'Basic' : challenge.scheme;
  if (challenge.token68 !== undefined) return `${scheme} ${challenge.token68}`;
  const params = Object.entries(challenge.params).map(
    ([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&')}"`,
  );
  return params.length ? `${scheme} ${params.join(',')}` : scheme;
}

interface BodyOptions {
  /** Error the stream past this many bytes. */
  limit: number | undefined;
  idleMs: number;
  onIdle(): void;
  /** Called once when the body ends; bytes is undefined where the runtime moved them without counting. */
  onEnd(bytes: number | undefined, outcome: 'ok' | 'failed' | 'cancelled'): void;
}

type StreamPair = { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

/** workerd's own stream classes (absent elsewhere): its native pipes move bytes without running JS per chunk. */
const workerdStreams = globalThis as {
  FixedLengthStream?: new (length: number) => StreamPair;
  IdentityTransformStream?: new () => StreamPair;
};

/**
 * Streams a body to the client. On workerd, JS sees 4 KiB chunks (a pull loop there manages ~60 MB/s), so
 * registry bodies go through a native pipe (FixedLengthStream, which also keeps Content-Length, which workerd
 * drops for JS streams); the stall timeout is then the runtime's. Token answers, which must be capped, and
 * every body on other platforms go through relayBody.
 */
function passThrough(
  source: ReadableStream<Uint8Array>,
  declared: string | null,
  options: BodyOptions,
): ReadableStream<Uint8Array> {
  const length = declared !== null && /^[0-9]+$/.test(declared) ? Number(declared) : undefined;
  const { FixedLengthStream: Fixed, IdentityTransformStream: Identity } = workerdStreams;
  if (options.limit === undefined && Fixed && Identity) {
    const pair = length !== undefined ? new Fixed(length) : new Identity();
    source.pipeTo(pair.writable).then(
      () => options.onEnd(length, 'ok'),
      () => options.onEnd(undefined, 'failed'),
    );
    return pair.readable;
  }
  const counted = relayBody(source, options);
  if (!Fixed || length === undefined) return counted;
  const pair = new Fixed(length);
  counted.pipeTo(pair.writable).catch(() => {});
  return pair.readable;
}

/** Streams a body chunk by chunk (no buffering), counting bytes, with a stall timeout and an end callback. */
function relayBody(source: ReadableStream<Uint8Array>, options: BodyOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let ended = false;
  const end = (outcome: 'ok' | 'failed' | 'cancelled') => {
    if (ended) return;
    ended = true;
    options.onEnd(bytes, outcome);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            options.onIdle();
            reject(new Error('the upstream body stalled'));
          }, options.idleMs);
        });
        const { done, value } = await Promise.race([reader.read(), idle]);
        if (done) {
          controller.close();
          end('ok');
          return;
        }
        bytes += value.byteLength;
        if (options.limit !== undefined && bytes > options.limit)
          throw new Error(`the answer is larger than ${options.limit} bytes`);
        controller.enqueue(value);
      } catch (error) {
        reader.cancel(error).catch(() => {});
        controller.error(error);
        end('failed');
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      end('cancelled');
      return reader.cancel(reason);
    },
  });
}

/** The request target (path and query) from a URL string, without re-parsing it. */
function rawTarget(url: string): string {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? '/' : url.slice(slash);
}

/** Log-safe text: printable ASCII only, bounded. */
function clean(text: string): string {
  const printable = text.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 300 ? `${printable.slice(0, 300)}...` : printable;
}

/** A URL for a message: host for http(s), else the scheme and the start of the rest (a file: URL has no host). */
function shownUrl(url: URL): string {
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.host;
  return clean(url.href.length > 80 ? `${url.href.slice(0, 80)}…` : url.href);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${detail}`;
  }
  return String(error);
}
