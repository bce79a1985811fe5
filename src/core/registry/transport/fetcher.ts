/**
 * The registry transport is a stack of small `Fetcher` layers, each doing one job (relay mapping, redirects,
 * retries, auth), composed in stack.ts — the shape of go-containerregistry's transport package.
 */
export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The platform's fetch, with two defaults that matter in browsers:
 * - `cache: 'no-store'`: registries mark blobs cacheable for a year, so every layer would also be written
 *   into the HTTP cache, and Chromium turns a plain GET into Range requests around what it already holds.
 * - `credentials: 'omit'`: no cookies go to registries or a relay, and a relayed `401 WWW-Authenticate: Basic`
 *   does not make the browser open its own login dialog (it prompts only for requests with credentials).
 */
export const platformFetch: Fetcher = (url, init) =>
  globalThis.fetch(url, { cache: 'no-store', credentials: 'omit', ...init });

export function withHeader(init: RequestInit, name: string, value: string | undefined): RequestInit {
  const headers = new Headers(init.headers);
  if (value === undefined) headers.delete(name);
  else headers.set(name, value);
  return { ...init, headers };
}

/** Frees a response's connection when its body will not be read. */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
