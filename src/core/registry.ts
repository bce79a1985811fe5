/**
 * A registry client for one registry host: composes the transport layers and speaks the distribution API
 * (manifests, blobs, tags), turning HTTP failures into SkiffErrors that say what to do.
 */
import { readAtMost, readTextAtMost } from './bytes.ts';
import { SkiffError, abortError } from './errors.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';
import { isLoopbackHost, registryApiHost } from './reference.ts';
import { type Credentials, RegistryAuth, summarize } from './transport/auth.ts';
import { type Fetcher, discard, platformFetch, sleep } from './transport/fetcher.ts';
import { type RateLimit, parseRateLimit } from './transport/rate-limit.ts';
import { withRedirects } from './transport/redirects.ts';
import { relayRefusal, withRelay } from './transport/relay.ts';
import { type RetryOptions, networkError, withRetry } from './transport/retry.ts';

export interface TransportOptions {
  /** CORS relay base URL (`https://host/relay`); empty = talk to registries directly. */
  relay?: string;
  /** Host[:port] that serves Docker Hub images instead of registry-1.docker.io. */
  dockerHubMirror?: string;
  /** Registry hosts to reach over plain http (loopback ones always are, as Docker does). */
  plainHttp?: string[];
  /** Credentials per registry (as in the reference: `docker.io`, `harbor.corp`), or one set for all. */
  credentials?: Credentials | ((registry: string) => Credentials | undefined);
  retry?: RetryOptions;
  /** How long a manifest, config, token or gzip trailer may take to arrive whole (default 120 s). */
  bodyDeadlineMs?: number;
  /** The fetch to build on (the platform's by default). */
  fetch?: Fetcher;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  contentType: string | null;
}

export class RegistryClient {
  readonly baseUrl: string;
  private readonly fetcher: Fetcher;
  private readonly attempts: number;
  private readonly bodyDeadlineMs: number | undefined;
  private readonly relayed: boolean;
  /** The stack without auth, for foreign layer URLs: credentials never go there. */
  readonly anonymousFetcher: Fetcher;
  /** The pull quota this registry last reported (Docker Hub: `ratelimit-remaining` on manifests). */
  rateLimit: RateLimit | undefined;

  constructor(
    readonly registry: string,
    options: TransportOptions = {},
  ) {
    const host =
      registry === 'docker.io' && options.dockerHubMirror ? options.dockerHubMirror : registryApiHost(registry);
    const plain =
      isLoopbackHost(host) ||
      (options.plainHttp ?? []).some(
        (h) => h.toLowerCase() === host.toLowerCase() || h.toLowerCase() === registry.toLowerCase(),
      );
    this.baseUrl = `${plain ? 'http' : 'https'}://${host}`;
    this.relayed = !!options.relay;
    const base = withRetry(withRedirects(withRelay(options.fetch ?? platformFetch, options.relay)), options.retry);
    this.anonymousFetcher = base;
    const credentials = typeof options.credentials === 'function' ? options.credentials(registry) : options.credentials;
    this.attempts = Math.max(1, options.retry?.attempts ?? 4);
    this.bodyDeadlineMs = options.bodyDeadlineMs;
    this.fetcher = new RegistryAuth(base, new URL(this.baseUrl).origin, credentials, undefined, {
      attempts: this.attempts,
      ...(options.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: options.bodyDeadlineMs } : {}),
    }).fetch;
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

  private async request(path: string, init: RequestInit, what: string): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
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
        bytes: await this.readLimited(response, 4 * 1024 * 1024, what),
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

  /** A small blob (a config) read whole. */
  async getSmallBlob(
    repository: string,
    digest: string,
    size: number,
    signal?: AbortSignal,
    what = `Blob ${digest}`,
  ): Promise<Uint8Array> {
    return this.readWhole(`/v2/${repository}/blobs/${digest}`, signal ? { signal } : {}, what, (response) =>
      this.readLimited(response, Math.min(size, 4 * 1024 * 1024), what),
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

  async listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const what = `Tags of ${repository}`;
    const bytes = await this.readWhole(`/v2/${repository}/tags/list?n=1000`, signal ? { signal } : {}, what, (r) =>
      this.readLimited(r, 4 * 1024 * 1024, what),
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

async function httpError(response: Response, what: string, relayed: boolean): Promise<SkiffError> {
  const text = await readTextAtMost(response, 64 * 1024, what).catch(() => '');
  // The relay's own refusal: the registry may never have been contacted.
  const refusal = relayed ? relayRefusal(response.status, text) : undefined;
  if (refusal) return refusal;
  let detail = summarize(text);
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length) {
      detail = body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON: keep the text summary
  }
  switch (response.status) {
    case 401:
      return new SkiffError(
        'unauthorized',
        `${what}: unauthorized. Check the username and password or access token. (${detail})`,
      );
    case 403:
      return new SkiffError('denied', `${what}: access denied by the registry (${detail})`);
    case 404:
      return new SkiffError(
        'not-found',
        `${what} was not found: check the repository name and the tag or digest (${detail})`,
      );
    case 429:
      return new SkiffError(
        'rate-limited',
        `${what}: the registry is rate-limiting requests (429); wait a while or log in (${detail})`,
      );
    default:
      return new SkiffError('http', `${what}: the registry answered HTTP ${response.status} (${detail})`);
  }
}

/** Reads a whole body, refusing more than `limit` bytes (declared or actual) so hostile answers cannot fill memory. */
export async function readLimited(
  response: Response,
  limit: number,
  what: string,
  deadlineMs?: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    discard(response);
    throw new SkiffError('too-large', `${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  if (!response.body) return new Uint8Array(0);
  const bytes = await readAtMost(response.body, limit, { what, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
  if (!bytes) throw new SkiffError('too-large', `${what} is larger than the ${limit} bytes allowed`);
  // A body shorter than its Content-Length was cut, even where the runtime reports a clean end.
  if (declared > 0 && bytes.byteLength < declared && !response.headers.has('content-encoding')) {
    throw new SkiffError('network', `${what}: the connection ended after ${bytes.byteLength} of ${declared} bytes`);
  }
  return bytes;
}
