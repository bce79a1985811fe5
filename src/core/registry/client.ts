/**
 * A registry client for one registry host, over the transport stack (transport/stack.ts): speaks the distribution API
 * (manifests, blobs, tags), turning HTTP failures into SkiffErrors that say what to do.
 */
import { SkiffError, abortError } from '../errors.ts';
import { MAX_MANIFEST_BYTES } from '../image/manifest.ts';
import { MANIFEST_ACCEPT } from '../image/media-types.ts';
import { httpError, readLimited } from './http.ts';
import { type Fetcher, discard } from './transport/fetcher.ts';
import type { TransportOptions } from './transport/options.ts';
import { type RateLimit, parseRateLimit } from './transport/rate-limit.ts';
import { networkError } from './transport/retry.ts';
import { type ClientRole, registryTransport } from './transport/stack.ts';
import { RequestWait, type WaitPolicy, retryTransient, withWait } from './transport/waits.ts';

export type { TransportOptions } from './transport/options.ts';
export type { ClientRole } from './transport/stack.ts';

export interface FetchedManifest {
  bytes: Uint8Array;
  contentType: string | null;
}

export class RegistryClient {
  readonly baseUrl: string;
  private readonly fetcher: Fetcher;
  /** The relay base URL, when requests go through one (upload Locations come back through it). */
  readonly relay: string | undefined;
  /** The bounds of every wait of this client's requests. */
  readonly waits: WaitPolicy;
  private readonly bodyDeadlineMs: number | undefined;
  private readonly onWait: ((message: string) => void) | undefined;
  private readonly relayed: boolean;
  /** The stack without auth, for foreign layer URLs: credentials never go there. */
  readonly anonymousFetcher: Fetcher;
  /** The pull quota this registry last reported (Docker Hub: `ratelimit-remaining` on manifests). */
  rateLimit: RateLimit | undefined;

  /** `transport`: only what reaching a registry needs (see `transportOf`); the stack is built in stack.ts. */
  constructor(
    readonly registry: string,
    transport: TransportOptions = {},
    role: ClientRole = {},
  ) {
    const stack = registryTransport(registry, transport, role);
    this.baseUrl = stack.baseUrl;
    this.relay = stack.relay;
    this.relayed = !!stack.relay;
    this.fetcher = stack.fetch;
    this.anonymousFetcher = stack.anonymousFetch;
    this.waits = stack.waits;
    this.bodyDeadlineMs = stack.bodyDeadlineMs;
    this.onWait = stack.onWait;
  }

  /**
   * A request whose body is read whole, asked again when the body breaks off or comes too slowly (a cut is
   * transient), within the request's one share of tries and time; then the last failure, saying how many
   * tries it took.
   */
  private async readWhole<T>(
    path: string,
    init: RequestInit,
    what: string,
    read: (response: Response, deadlineMs: number, what: string) => Promise<T>,
  ): Promise<T> {
    const wait = new RequestWait(this.waits, new URL(this.baseUrl).host);
    return retryTransient(
      wait,
      init.signal ?? undefined,
      async () => {
        const response = await this.request(path, withWait(init, wait), what);
        const deadlineMs = Math.max(1, Math.min(this.bodyDeadlineMs ?? Infinity, wait.left()));
        return read(response, deadlineMs, `${what} from ${wait.host}`);
      },
      { ...(this.onWait ? { onRetry: this.onWait } : {}) },
    );
  }

  private request(path: string, init: RequestInit, what: string): Promise<Response> {
    return this.requestUrl(`${this.baseUrl}${path}`, init, what);
  }

  /** A request to any URL of the registry (upload sessions name their own); HTTP failures become SkiffErrors. */
  async requestUrl(url: string, init: RequestInit, what: string): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetcher(url, init);
    } catch (error) {
      if (init.signal?.aborted) throw abortError(init.signal);
      if (error instanceof SkiffError) throw error;
      throw networkError(url, error);
    }
    this.rateLimit = parseRateLimit(response.headers) ?? this.rateLimit;
    if (response.ok) return response;
    throw await httpError(response, what, this.relayed, this.waits.idleMs);
  }

  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `Manifest ${repository}:${reference}`;
    return this.readWhole(
      `/v2/${repository}/manifests/${reference}`,
      { headers: { accept: MANIFEST_ACCEPT }, ...(signal ? { signal } : {}) },
      what,
      async (response, deadlineMs, from) => ({
        bytes: await readLimited(response, MAX_MANIFEST_BYTES, from, deadlineMs),
        contentType: response.headers.get('content-type'),
      }),
    );
  }

  /** Whether the manifest exists, without fetching it (a HEAD: Docker Hub does not count it as a pull). */
  async headManifest(repository: string, reference: string, signal?: AbortSignal): Promise<void> {
    const response = await this.request(
      `/v2/${repository}/manifests/${reference}`,
      { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT }, ...(signal ? { signal } : {}) },
      `Manifest ${repository}:${reference}`,
    );
    await response.body?.cancel();
  }

  /** The digest the registry holds under a tag or digest (a HEAD), or undefined when it holds none there. */
  async manifestDigest(repository: string, reference: string, signal?: AbortSignal): Promise<string | undefined> {
    const url = `${this.baseUrl}/v2/${repository}/manifests/${reference}`;
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof SkiffError) throw error;
      throw networkError(url, error);
    }
    discard(response);
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw await httpError(response, `Manifest ${repository}:${reference}`, this.relayed, this.waits.idleMs);
    return response.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : '');
  }
  /** A small blob (a config) read whole; a config is JSON held to the manifests' bound. */
  async getSmallBlob(
    repository: string,
    digest: string,
    size: number,
    signal?: AbortSignal,
    what = `Blob ${digest}`,
  ): Promise<Uint8Array> {
    return this.readWhole(
      `/v2/${repository}/blobs/${digest}`,
      signal ? { signal } : {},
      what,
      (response, deadlineMs, from) => readLimited(response, Math.min(size, MAX_MANIFEST_BYTES), from, deadlineMs),
    );
  }

  /** Opens a blob for streaming, from `offset` on (Range; up to the byte `last` when given, inclusive),
   *  following redirects to a CDN without credentials. */
  openBlob(
    repository: string,
    digest: string,
    offset: number,
    signal?: AbortSignal,
    last?: number,
    wait?: RequestWait,
  ): Promise<Response> {
    const headers: Record<string, string> =
      offset > 0 || last !== undefined ? { range: `bytes=${offset}-${last ?? ''}` } : {};
    const init: RequestInit = { headers, ...(signal ? { signal } : {}) };
    return this.request(`/v2/${repository}/blobs/${digest}`, wait ? withWait(init, wait) : init, `Blob ${digest}`);
  }

  /**
   * The last `count` bytes of a blob, or undefined when the registry does not honour Range.
   * The range is written `bytes=a-b`: a suffix range `bytes=-n` is not CORS-safelisted and costs a preflight.
   */
  async blobTail(
    repository: string,
    digest: string,
    size: number,
    count: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array | undefined> {
    if (size < count) return undefined;
    const range = `bytes=${size - count}-${size - 1}`;
    const what = `The last ${count} bytes of blob ${digest} (Range ${range})`;
    return this.readWhole(
      `/v2/${repository}/blobs/${digest}`,
      { headers: { range }, ...(signal ? { signal } : {}) },
      what,
      async (response, deadlineMs, from) => {
        if (response.status !== 206) {
          discard(response);
          return undefined;
        }
        const bytes = await readLimited(response, count, from, deadlineMs);
        return bytes.byteLength === count ? bytes : undefined;
      },
    );
  }

  /** HEAD: does the registry hold this blob in this repository? */
  async hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.baseUrl}/v2/${repository}/blobs/${digest}`;
    let response: Response;
    try {
      response = await this.fetcher(url, { method: 'HEAD', ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof SkiffError) throw error;
      throw networkError(url, error);
    }
    discard(response);
    if (response.ok) return true;
    if (response.status === 404) return false;
    throw await httpError(response, `Blob ${digest} in ${repository}`, this.relayed, this.waits.idleMs);
  }

  /** PUT a manifest under a tag or digest; returns the digest the registry gives it. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const response = await this.request(
      `/v2/${repository}/manifests/${reference}`,
      {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: bytes as Uint8Array<ArrayBuffer>,
        ...(signal ? { signal } : {}),
      },
      `Manifest ${repository}:${reference}`,
    );
    discard(response);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  /**
   * The repository's tags, page by page as the registry hands them out (`?n=`, then each answer's
   * `Link: <…>; rel="next"`), for at most `maxPages` pages: a repository of many thousand tags costs a few
   * requests, not hundreds. Pages are followed on this registry only.
   */
  async listTags(
    repository: string,
    signal?: AbortSignal,
    { pageSize = 1000, maxPages = 5 }: { pageSize?: number; maxPages?: number } = {},
  ): Promise<string[]> {
    const what = `Tags of ${repository}`;
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=${pageSize}`;
    for (let page = 0; path && page < maxPages; page++) {
      let link: string | null = null;
      const bytes = await this.readWhole(path, signal ? { signal } : {}, what, (r, ms, from) => {
        link = r.headers.get('link');
        return readLimited(r, MAX_MANIFEST_BYTES, from, ms);
      });
      let body: { tags?: unknown } = {};
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        // not JSON: no tags
      }
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const target = /<([^>]+)>\s*;[^,]*rel="?next"?/i.exec(link ?? '')?.[1];
      const next = target ? new URL(target, this.baseUrl) : undefined;
      path =
        next && next.origin === new URL(this.baseUrl).origin && next.pathname === `/v2/${repository}/tags/list`
          ? `${next.pathname}${next.search}`
          : undefined;
    }
    return tags;
  }
}
