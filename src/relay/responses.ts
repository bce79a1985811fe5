/**
 * What the relay answers: the registry's answer with only the listed headers (Locations and Bearer realms
 * pointed back into the relay), or its own error as JSON and as headers, each with the safety headers.
 */
import { rewriteChallenges } from './challenges.ts';
import type { Cors } from './cors.ts';
import type { DestinationPolicy } from './destination.ts';
import { RelayError, relayErrorHeaders } from './errors.ts';
import { type Route, relayedLocation } from './route.ts';

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

/** The headers of a relayed answer. `relayBase` is `<relay origin><prefix>`. */
export function relayedHeaders(
  policy: DestinationPolicy,
  upstream: Response,
  route: Route,
  cors: Cors,
  relayBase: string,
): Headers {
  const headers = new Headers(cors);
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  // Upload sessions name where the next chunk goes: through the relay again, for the same host only.
  const location = upstream.headers.get('location');
  if (location !== null && route.kind === 'registry') {
    const next = relayedLocation(location, route, relayBase);
    if (next) headers.set('location', next);
  }
  const challenge = headers.get('www-authenticate');
  if (challenge !== null) headers.set('www-authenticate', rewriteChallenges(policy, challenge, relayBase));
  addSafetyHeaders(headers);
  return headers;
}

/** Relayed bytes are never a page of the app's origin: no sniffing, no scripts, not embeddable elsewhere. */
export function addSafetyHeaders(headers: Headers): void {
  headers.set('x-content-type-options', 'nosniff');
  headers.set('content-security-policy', "default-src 'none'; sandbox");
  headers.set('cross-origin-resource-policy', 'same-origin');
}

/** The relay's own error: `{"error": {"code", "message"}}`, and the same in headers for answers without a body (HEAD). */
export function errorResponse(error: RelayError, cors: Cors | undefined): Response {
  const headers = new Headers(cors);
  headers.set('content-type', 'application/json; charset=utf-8');
  headers.set('cache-control', 'no-store');
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  for (const [name, value] of Object.entries(relayErrorHeaders(error.code, error.message))) headers.set(name, value);
  addSafetyHeaders(headers);
  return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), {
    status: error.status,
    headers,
  });
}
