import { type RelayRefusal, SkiffError } from '../../errors.ts';
import type { Fetcher } from './fetcher.ts';

/**
 * Sends requests through a CORS relay, keeping the registry visible in the path:
 * `https://ghcr.io/v2/x/manifests/1` → `<relay>/ghcr.io/v2/x/manifests/1`. URLs already under the relay
 * (token realms the relay rewrote) pass unchanged.
 */
export function relayUrl(relay: string, url: string): string {
  const base = relay.replace(/\/+$/, '');
  if (url.startsWith(`${base}/`)) return url;
  // Which scheme the relay speaks to the registry is the relay's own setting, not the caller's.
  const target = new URL(url);
  return `${base}/${target.host}${target.pathname}${target.search}`;
}

export function withRelay(next: Fetcher, relay: string | undefined): Fetcher {
  if (!relay) return next;
  return (url, init) => next(relayUrl(relay, url), init);
}

/** The error codes the relay answers with itself (src/relay): an answer carrying one is the relay's, not the registry's. */
const RELAY_CODES = new Set([
  'host-not-allowed',
  'private-address',
  'scheme-not-allowed',
  'redirect-not-allowed',
  'too-many-redirects',
  'bad-redirect',
  'bad-host',
  'bad-port',
  'bad-path',
  'path-not-allowed',
  'not-found',
  'rate-limited',
  'too-many-in-flight',
  'origin-not-allowed',
  'push-not-allowed',
  'upstream-unreachable',
  'upstream-timeout',
  'upstream-too-large',
  'method-not-allowed',
  'body-not-allowed',
  'body-too-large',
  'unsupported-media-type',
  'unknown-host',
  'bad-request',
  'bad-configuration',
  'internal',
  'client-closed',
  'body-timeout',
]);

/**
 * The relay's own refusal, read from an error answer's headers (`Skiff-Relay-Error` and the percent-encoded
 * `Skiff-Relay-Message`, which a HEAD answer carries too) or its body (`{"error": {"code", "message"}}`;
 * registries answer `{"errors": [...]}`), as a SkiffError that says the registry was never the one answering.
 */
export function relayRefusal(status: number, text: string, headers?: Headers): SkiffError | undefined {
  const said = fromHeaders(headers) ?? fromBody(text);
  if (!said || !RELAY_CODES.has(said.code)) return undefined;
  const shown = said.message.slice(0, 500);
  const host = hostNamed(shown);
  return new SkiffError('relay-refused', `The relay answered HTTP ${status} ${said.code}: ${shown}`, {
    relay: { code: said.code, ...(host ? { host } : {}) },
  });
}

function fromHeaders(headers: Headers | undefined): { code: string; message: string } | undefined {
  const code = headers?.get('skiff-relay-error');
  const encoded = headers?.get('skiff-relay-message');
  if (!code || encoded == null) return undefined;
  try {
    return { code, message: decodeURIComponent(encoded) };
  } catch {
    return undefined;
  }
}

function fromBody(text: string): { code: string; message: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
}

/** What a `relay-refused` error says: its own field, or (after a trip through a worker) read back from its message. */
export function relayRefusalOf(error: SkiffError): RelayRefusal | undefined {
  if (error.relay) return error.relay;
  const match = /^The relay answered HTTP \d+ ([a-z-]+): (.*)$/s.exec(error.message);
  if (!match) return undefined;
  const host = hostNamed(match[2]!);
  return { code: match[1]!, ...(host ? { host } : {}) };
}

const HOST = String.raw`(\[[0-9a-fA-F:.]+\](?::\d+)?|[A-Za-z0-9.-]+(?::\d+)?)`;
const HOST_PATTERNS = [
  new RegExp(String.raw`redirected to ${HOST}, which`),
  new RegExp(String.raw`^Could not reach ${HOST}:`),
  new RegExp(String.raw`^${HOST} (?:is |resolves |did not )`),
  new RegExp(String.raw`^More than \d+ redirects starting at ${HOST}`),
];

/** The host a relay message is about (the relay names it first, or after "redirected to"). */
function hostNamed(message: string): string | undefined {
  for (const pattern of HOST_PATTERNS) {
    const match = pattern.exec(message);
    if (match) return match[1];
  }
  return undefined;
}
