/**
 * What a relay path names: `<prefix>/<registry-host[:port]>/<path>`, checked as written (before any URL
 * parser could fold `..`, `%2F` or `//` into another path than the one the policy saw), and which kind
 * of path it is: the registry API, a token endpoint, or one of the API's write paths.
 */
import { clean } from './log.ts';
import { RelayError } from './errors.ts';
import { type TargetHost, parseHost } from './hosts.ts';

export type PathKind = 'registry' | 'token';

export interface Route {
  /** The host the client named (before any mirror substitution). */
  host: TargetHost;
  /** Path as received (still percent-encoded) and query including its `?`. */
  path: string;
  query: string;
  kind: PathKind;
}

/** The request target (path and query) from a URL string, without re-parsing it. */
export function rawTarget(url: string): string {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? '/' : url.slice(slash);
}

/** Splits a raw request target into path and query (with its `?`). */
export function splitTarget(raw: string): { path: string; query: string } {
  const queryAt = raw.indexOf('?');
  return queryAt < 0 ? { path: raw, query: '' } : { path: raw.slice(0, queryAt), query: raw.slice(queryAt) };
}

/** `path` is `/<host>/<rest>` (the prefix removed): validated as written, then split. */
export function parseRelayPath(path: string, query: string): Route {
  const slash = path.indexOf('/', 1);
  const hostText = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const rest = slash < 0 ? '' : path.slice(slash);
  checkPathSyntax(path);
  const host = parseHost(hostText);
  return { host, path: rest, query, kind: classifyPath(rest) };
}

/** Refuses what could make the registry see another path than the allowlist and the route checks saw. */
export function checkPathSyntax(path: string): void {
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
export function classifyPath(path: string): PathKind {
  if (path === '/v2/token' || path === '/v2/auth') return 'token';
  if (path.startsWith('/v2/')) return 'registry';
  if (/^(?:\/[^/]+)*\/(?:token|auth)\/?$/i.test(path)) return 'token';
  throw new RelayError(403, 'path-not-allowed', 'Only registry API paths (/v2/...) and token endpoints are relayed.');
}

/** The distribution API's write paths: starting an upload, its chunks and commit, and a manifest PUT. */
const UPLOAD_START = /^\/v2\/[^?]+\/blobs\/uploads\/?$/;
const UPLOAD_SESSION = /^\/v2\/[^?]+\/blobs\/uploads\/[^/]+$/;
const MANIFEST = /^\/v2\/[^?]+\/manifests\/[^/]+$/;

export function isWrite(method: string, route: Route): boolean {
  if (route.kind !== 'registry') return false;
  if (method === 'POST') return UPLOAD_START.test(route.path);
  if (method === 'PATCH') return UPLOAD_SESSION.test(route.path);
  if (method === 'PUT') return UPLOAD_SESSION.test(route.path) || MANIFEST.test(route.path);
  return false;
}

/** An upload Location as a relay URL, when it stays on the route's host (relative ones always do). */
export function relayedLocation(location: string, route: Route, relayBase: string): string | undefined {
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

/** Reads (GET, HEAD) carry no body; a token endpoint also takes a form POST. Anything else is refused. */
export function checkReadMethod(method: string, route: Route): void {
  if (method === 'GET' || method === 'HEAD') return;
  if (method === 'POST' && route.kind === 'token') return;
  const allow = route.kind === 'token' ? 'GET, HEAD, POST, OPTIONS' : 'GET, HEAD, OPTIONS';
  throw new RelayError(405, 'method-not-allowed', `${clean(method)} is not allowed here; the relay takes ${allow}.`, {
    allow,
  });
}
