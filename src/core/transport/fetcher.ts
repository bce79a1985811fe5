/**
 * The registry transport is a stack of small `Fetcher` layers, each doing one job (relay mapping, redirects,
 * retries, auth), composed in registry.ts — the shape of go-containerregistry's transport package.
 */
export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export const platformFetch: Fetcher = (url, init) => globalThis.fetch(url, init);

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
