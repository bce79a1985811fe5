/**
 * Forwarding: one request to the registry with only the listed headers, redirects followed here (each hop
 * checked by the destination policy), and failures to connect told as the relay's own.
 */
import {
  type Destination,
  type DestinationPolicy,
  destinationFor,
  destinationForUrl,
  mirrored,
} from './destination.ts';
import { RelayError } from './errors.ts';
import { clean, describe } from './log.ts';
import type { Route } from './route.ts';

export type RequestBody = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;

export interface UpstreamInit {
  method: string;
  headers: Headers;
  /** A token request's form body, or a push's upload or manifest streamed through as it arrives. */
  body: RequestBody;
  signal: AbortSignal;
  /** Whether the host may resolve to a private address (a platform that resolves names itself checks this). */
  allowPrivate: boolean;
}

/** Fetches one hop without following redirects. */
export type UpstreamFetch = (url: string, init: UpstreamInit) => Promise<Response>;

export const platformFetch: UpstreamFetch = (url, init) =>
  fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
    redirect: 'manual',
    // A streamed request body (a push) needs half-duplex in Node's fetch; workerd ignores the field.
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);

const FORWARDED_REQUEST_HEADERS = ['accept', 'authorization', 'if-none-match', 'range'];
/** Sent on with pushes (RELAY_ALLOW_PUSH hosts only). */
const FORWARDED_WRITE_HEADERS = ['content-type', 'content-length', 'content-range'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 10;

/** The headers sent upstream: the listed ones from the client, and nothing that would change the bytes. */
export function upstreamHeaders(request: Request, body: RequestBody): Headers {
  const headers = new Headers();
  const copy = (names: string[]) => {
    for (const name of names) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
  };
  copy(FORWARDED_REQUEST_HEADERS);
  if (body instanceof ReadableStream) copy(FORWARDED_WRITE_HEADERS);
  else if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
  // Bytes must arrive as the registry stores them: digests are over the stored bytes.
  headers.set('accept-encoding', 'identity');
  headers.set('user-agent', 'skiff-relay');
  return headers;
}

export interface Hop {
  url: URL;
  target: Destination;
  method: string;
  /** Whether the request still carries its body. */
  withBody: boolean;
  withAuthorization: boolean;
}

/**
 * Where a redirect leads, or why the relay does not go there. Credentials are for the host the client named
 * (never a CDN); a token form (a password, maybe) goes to no host but that one either; a streamed push body
 * cannot be sent twice.
 */
export function redirectStep(
  policy: DestinationPolicy,
  from: Hop,
  status: number,
  location: string,
  firstOrigin: string,
  hop: number,
  streamed: boolean,
): Hop {
  const here = from.target.host.host;
  if (streamed)
    throw new RelayError(502, 'redirect-not-allowed', `${here} redirected a push; the relay does not follow that.`);
  if (hop >= MAX_REDIRECTS)
    throw new RelayError(502, 'too-many-redirects', `More than ${MAX_REDIRECTS} redirects starting at ${here}.`);
  let next: URL;
  try {
    next = new URL(location, from.url);
  } catch {
    throw new RelayError(502, 'bad-redirect', `${here} redirected to an invalid URL.`);
  }
  let target: Destination;
  try {
    target = destinationForUrl(policy, next);
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    throw new RelayError(
      error.status,
      'redirect-not-allowed',
      `${here} redirected to ${shownUrl(next)}, which this relay does not reach: ${error.message}`,
    );
  }
  const sameOrigin = next.origin === firstOrigin;
  if (from.withBody && (status === 307 || status === 308) && !sameOrigin) {
    throw new RelayError(
      502,
      'redirect-not-allowed',
      `${here} redirected a token request (${status}) to ${next.host}; the relay does not send its form to another host.`,
    );
  }
  const toGet = status === 303 || ((status === 301 || status === 302) && from.method === 'POST');
  return {
    url: next,
    target,
    method: toGet ? (from.method === 'HEAD' ? 'HEAD' : 'GET') : from.method,
    withBody: toGet ? false : from.withBody,
    withAuthorization: from.withAuthorization && sameOrigin,
  };
}

/** Sends the request on and follows redirects; the answer that is not a redirect is returned as it came. */
export async function forward(
  policy: DestinationPolicy,
  upstreamFetch: UpstreamFetch,
  request: Request,
  route: Route,
  body: RequestBody,
  signal: AbortSignal,
): Promise<Response> {
  const first = destinationFor(policy, mirrored(policy, route.host));
  const headers = upstreamHeaders(request, body);
  let hop: Hop = {
    url: new URL(`${first.scheme}//${first.host.host}${route.path}${route.query}`),
    target: first,
    method: request.method,
    withBody: body !== null,
    withAuthorization: true,
  };
  const firstOrigin = hop.url.origin;
  for (let count = 0; ; count++) {
    if (!hop.withAuthorization) headers.delete('authorization');
    if (!hop.withBody) headers.delete('content-type');
    const response = await upstreamFetch(hop.url.href, {
      method: hop.method,
      headers,
      body: hop.withBody ? body : null,
      signal,
      allowPrivate: hop.target.allowPrivate,
    });
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return response;
    response.body?.cancel().catch(() => {});
    hop = redirectStep(policy, hop, response.status, location, firstOrigin, count, body instanceof ReadableStream);
  }
}

/**
 * Why the upstream request ends early: the client went away (499), or the upstream did not answer, or its
 * body stalled, within the time allowed (504). Its signal goes to the upstream fetch.
 */
export class UpstreamDeadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly clientGone = () =>
    this.controller.abort(new RelayError(499, 'client-closed', 'The client went away.'));

  constructor(
    private readonly request: Request,
    host: string,
    timeoutMs: number,
  ) {
    if (request.signal.aborted) this.clientGone();
    request.signal.addEventListener('abort', this.clientGone, { once: true });
    const timeout = new RelayError(504, 'upstream-timeout', `${host} did not answer within ${timeoutMs / 1000} s.`);
    this.timer = setTimeout(() => this.controller.abort(timeout), timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The answer's headers arrived: from now on only the body's stall timer applies. */
  answered(): void {
    clearTimeout(this.timer);
  }

  stalled(): void {
    this.controller.abort(new RelayError(504, 'upstream-timeout', 'The upstream body stalled.'));
  }

  /** The exchange is over: a client leaving now changes nothing. */
  done(): void {
    clearTimeout(this.timer);
    this.request.signal.removeEventListener('abort', this.clientGone);
  }

  /** The error a failed forward ends with: the deadline's own reason, the relay's refusal, or an unreachable host. */
  failure(policy: DestinationPolicy, route: Route, error: unknown): RelayError {
    if (this.controller.signal.reason instanceof RelayError) return this.controller.signal.reason;
    if (error instanceof RelayError) return error;
    return unreachable(policy, route, error);
  }
}

/** A connection that failed (no DNS answer, refused, TLS), as the relay's own 502, with the setting that may fix it. */
export function unreachable(policy: DestinationPolicy, route: Route, error: unknown): RelayError {
  const reason = describe(error);
  // A plain-http registry answered TLS with http: say which setting is missing.
  // workerd reports only "internal error" there, so a private host reached over https gets the hint too.
  let hint = '';
  try {
    const tried = destinationFor(policy, mirrored(policy, route.host));
    if (tried.scheme === 'https:' && (/ssl|tls|wrong version|eproto|handshake/i.test(reason) || tried.allowPrivate))
      hint = ` If ${route.host.host} speaks plain http, list it in RELAY_PLAIN_HTTP.`;
  } catch {
    // checked before the request was sent: cannot fail here
  }
  return new RelayError(502, 'upstream-unreachable', `Could not reach ${route.host.host}: ${reason}.${hint}`);
}

/** A URL for a message: host for http(s), else the scheme and the start of the rest (a file: URL has no host). */
function shownUrl(url: URL): string {
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.host;
  return clean(url.href.length > 80 ? `${url.href.slice(0, 80)}…` : url.href);
}
