import { SkiffError } from '../../errors.ts';
import { type Fetcher, discard, withHeader } from './fetcher.ts';

const MAX_REDIRECTS = 10;

/**
 * Follows redirects (registries send blobs to CDNs) so that credentials never reach another host.
 * Where fetch exposes redirects (Node), we follow them ourselves and drop Authorization when the origin
 * changes. Browsers hide them (`opaqueredirect`); there we let the browser follow, and the Fetch standard
 * itself removes Authorization on a cross-origin redirect.
 */
export function withRedirects(next: Fetcher): Fetcher {
  return async (url, init) => {
    let current = url;
    let currentInit: RequestInit = { ...init, redirect: 'manual' };
    for (let hop = 0; ; hop++) {
      const response = await next(current, currentInit);
      if (response.type === 'opaqueredirect') {
        return next(current, { ...currentInit, redirect: 'follow' });
      }
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      discard(response);
      if (hop >= MAX_REDIRECTS) {
        throw new SkiffError('network', `Too many redirects (more than ${MAX_REDIRECTS}) starting from ${url}`);
      }
      const target = new URL(location, current);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') {
        throw new SkiffError('network', `A redirect pointed to an unsupported URL scheme "${target.protocol}"`);
      }
      if (target.origin !== new URL(current).origin) currentInit = withHeader(currentInit, 'authorization', undefined);
      current = target.href;
    }
  };
}
