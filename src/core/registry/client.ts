/**
 * A registry client for one registry host, over the transport stack (transport/stack.ts): speaks the distribution API
 * (manifests, blobs, tags), turning HTTP failures into SkiffErrors that say what to do.
 */
import { SkiffError, abortError } from '../errors.ts';
import { MAX_MANIFEST_BYTES } from '../image/manifest.ts';
import { MANIFEST_ACCEPT } from '../image/media-types.ts';
import { httpError, readLimited } from './http.ts';
import { type Fetcher, discard, sleep } from './transport/fetcher.ts';
import type { TransportOptions } from './transport/options.ts';
import { type RateLimit, parseRateLimit } from './transport/rate-limit.ts';
import { networkError } from './transport/retry.ts';
import { type ClientRole, registryTransport } from './transport/stack.ts';

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
  private readonly attempts: number;
  private readonly bodyDeadlineMs: number | undefined;
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
    this.attempts = stack.attempts;
    this.bodyDeadlineMs = stack.bodyDeadlineMs;
  }

  /**
   * A request whose body is read whole, asked again when the body breaks off or comes too slowly (a cut is
   * transient), as often as the retry policy allows; then the last failure, saying how many tries it took.
   */
  private async readWhole<T>(
    path: string,
    init: RequestInit,
    what: string,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    const signal = init.signal ?? undefined;
    for (let attempt = 1; ; attempt++) {
      const response = await this.request(path, init, what);
      try {
        return await read(response);
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        const transient = error instanceof SkiffError && (error.code === 'network' || error.code === 'timeout');
        if (!transient) throw error;
        if (attempt >= this.attempts) {
          throw new SkiffError(
            error.code,
            `${error.message}${this.attempts > 1 ? ` (gave up after ${this.attempts} tries)` : ''}`,
            { cause: error },
          );
        }
        await sleep(Math.min(250 * 2 ** (attempt - 1), 4_000), signal).catch(() => {
          throw abortError(signal);
        });
      }
    }
  }

  private readLimited(response: Response, limit: number, what: string): Promise<Uint8Array> {
    return readLimited(response, limit, what, this.bodyDeadlineMs);
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
    throw await httpError(response, what, this.relayed);
  }

  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `Manifest ${repository}:${reference}`;
    return this.readWhole(
      `/v2/${repository}/manifests/${reference}`,
      { headers: { accept: MANIFEST_ACCEPT }, ...(signal ? { signal } : {}) },
      what,
      async (response) => ({
        bytes: await this.readLimited(response, MAX_MANIFEST_BYTES, what),
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

  /** A small blob (a config) read whole; a config is JSON held to the manifests' bound. */
  async getSmallBlob(
    repository: string,
    digest: string,
    size: number,
    signal?: AbortSignal,
    what = `Blob ${digest}`,
  ): Promise<Uint8Array> {
    return this.readWhole(`/v2/${repository}/blobs/${digest}`, signal ? { signal } : {}, what, (response) =>
      this.readLimited(response, Math.min(size, MAX_MANIFEST_BYTES), what),
    );
  }

  /** Opens a blob for streaming, from `offset` on (Range; up to the byte `last` when given, inclusive),
   *  following redirects to a CDN without credentials. */
  openBlob(repository: string, digest: string, offset: number, signal?: AbortSignal, last?: number): Promise<Response> {
    const headers: Record<string, string> =
      offset > 0 || last !== undefined ? { range: `bytes=${offset}-${last ?? ''}` } : {};
    return this.request(
      `/v2/${repository}/blobs/${digest}`,
      { headers, ...(signal ? { signal } : {}) },
      `Blob ${digest}`,
    );
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
      async (response) => {
        if (response.status !== 206) {
          discard(response);
          return undefined;
        }
        const bytes = await this.readLimited(response, count, what);
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
    throw await httpError(response, `Blob ${digest} in ${repository}`, this.relayed);
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
    if (!response.ok) throw await httpError(response, `Manifest ${repository}:${reference}`, this.relayed);
    return response.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : '');
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

  async listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const what = `Tags of ${repository}`;
    const bytes = await this.readWhole(`/v2/${repository}/tags/list?n=1000`, signal ? { signal } : {}, what, (r) =>
      this.readLimited(r, MAX_MANIFEST_BYTES, what),
    );
    let body: { tags?: unknown } = {};
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // not JSON: no tags
    }
    return Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : [];
  }
}
