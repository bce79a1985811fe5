/**
 * Which pages may read the relay's answers (RELAY_ORIGINS), and the CORS headers that tell the browser.
 * Origins compare whole (scheme, host and port, as browsers write them): the same host on another scheme,
 * or with user information, is another origin.
 */
import type { RelayConfig } from './config.ts';
import { RELAY_ERROR_HEADER, RELAY_MESSAGE_HEADER, RelayError } from './errors.ts';
import { clean } from './log.ts';

export type Cors = Record<string, string>;

/** Tag pages (Link) and Docker Hub's pull quota (RateLimit-*) too: a page behind a shared relay must see them. */
const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Content-Type',
  'Docker-Content-Digest',
  'Docker-Distribution-Api-Version',
  'Docker-Upload-UUID',
  'ETag',
  'Link',
  'Location',
  'Range',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'WWW-Authenticate',
  RELAY_ERROR_HEADER,
  RELAY_MESSAGE_HEADER,
].join(', ');
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH';
const ALLOWED_HEADERS = 'Authorization, Accept, Range, Content-Type, Content-Range';

/** The relay's own origins: the one browsers use (RELAY_PUBLIC_URL) and the one the request arrived at. */
export function ownOrigins(config: Pick<RelayConfig, 'publicUrl'>, requestUrl: URL): string[] {
  return [config.publicUrl ?? requestUrl.origin, requestUrl.origin];
}

/** An Origin header that is exactly one of the relay's own origins or one RELAY_ORIGINS lists by name. */
export function isNamedOrigin(origin: string, own: readonly string[], listed: '*' | readonly string[]): boolean {
  return own.includes(origin) || (listed !== '*' && listed.includes(origin));
}

/** CORS headers for an allowed origin (none needed without one); undefined when the origin is refused. */
export function corsHeaders(
  origins: RelayConfig['origins'],
  origin: string | null,
  own: readonly string[],
): Cors | undefined {
  if (origins === '*') return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
  const vary = { vary: 'Origin' };
  if (origin === null) return vary;
  if (!isNamedOrigin(origin, own, origins)) return undefined;
  return { ...vary, 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS };
}

/**
 * Refuses a page the CORS rules do not admit. No-cors loads (<img>, <script>) carry no Origin; Fetch
 * Metadata still tells a foreign page's request apart.
 */
export function checkOrigin(
  origins: RelayConfig['origins'],
  origin: string | null,
  site: string | null,
  cors: Cors | undefined,
): asserts cors is Cors {
  if (!cors)
    throw new RelayError(403, 'origin-not-allowed', `Pages from ${origin} may not use this relay (RELAY_ORIGINS).`);
  if (origin === null && origins !== '*' && (site === 'cross-site' || site === 'same-site')) {
    throw new RelayError(
      403,
      'origin-not-allowed',
      'Requests from other sites must be CORS requests from an allowed origin (RELAY_ORIGINS).',
    );
  }
}

/** The answer to a CORS preflight (OPTIONS), for an origin already admitted. */
export function preflight(request: Request, cors: Cors): Response {
  const wanted = request.headers.get('access-control-request-method');
  if (wanted !== null && !ALLOWED_METHODS.split(', ').includes(wanted)) {
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
