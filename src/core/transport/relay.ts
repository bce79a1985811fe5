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
