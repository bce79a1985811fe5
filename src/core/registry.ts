/**
 * A registry client for one registry host: composes the transport layers and speaks the distribution API
 * (manifests, blobs, tags), turning HTTP failures into SkiffErrors that say what to do.
 */
import { readAtMost, readTextAtMost } from './bytes.ts';
import { SkiffError, abortError } from './errors.ts';
import { MAX_MANIFEST_BYTES } from './manifest.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';
import { isLoopbackHost, registryApiHost } from './reference.ts';
import { type Credentials, RegistryAuth, summarize } from './transport/auth.ts';
import { type Fetcher, discard, platformFetch, sleep } from './transport/fetcher.ts';
import { type RateLimit, parseQuotaRefusal, parseRateLimit } from './transport/rate-limit.ts';
import { withRedirects } from './transport/redirects.ts';
import { relayRefusal, withRelay } from './transport/relay.ts';
import { type RetryOptions, networkError, withRetry } from './transport/retry.ts';
import { RequestWait, type WaitPolicy, isGivenUp, waitPolicy, withWait } from './transport/waits.ts';

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
  /** Every wait's bounds (transport/waits.ts); `retry`, `idleTimeoutMs` and `minBytesPerSecond` still set theirs. */
  waits?: Partial<WaitPolicy>;
  /** A blob body that sends nothing for this long is stalled (the wait policy's `idleMs`). */
  idleTimeoutMs?: number;
  /** A blob body slower than this over an `idleTimeoutMs` is stalled too (default 1024 B/s). */
  minBytesPerSecond?: number;
  /** How long one try of a manifest, config, token or gzip trailer may take to arrive whole (default: the
   *  wait policy's deadline, which bounds all tries together). */
  bodyDeadlineMs?: number;
  /** The fetch to build on (the platform's by default). */
  fetch?: Fetcher;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  contentType: string | null;
}

export interface ClientRole {
  /** Ask for push rights as well as pull (uploads, manifest PUTs). */
  push?: boolean;
}

/** Where an upload goes next; the registry says so in each answer's Location. */
export interface UploadSession {
  location: string;
}

export class RegistryClient {
  readonly baseUrl: string;
  private readonly fetcher: Fetcher;
  private readonly relay: string | undefined;
  /** The bounds of every wait of this client's requests. */
  readonly waits: WaitPolicy;
  private readonly bodyDeadlineMs: number | undefined;
  private readonly onWait: ((message: string) => void) | undefined;
  private readonly relayed: boolean;
  /** The stack without auth, for foreign layer URLs: credentials never go there. */
  readonly anonymousFetcher: Fetcher;
  /** The pull quota this registry last reported (Docker Hub: `ratelimit-remaining` on manifests). */
  rateLimit: RateLimit | undefined;

  constructor(
    readonly registry: string,
    options: TransportOptions = {},
    role: ClientRole = {},
  ) {
    this.relay = options.relay ? options.relay.replace(/\/+$/, '') : undefined;
    const host =
      registry === 'docker.io' && options.dockerHubMirror ? options.dockerHubMirror : registryApiHost(registry);
    const plain =
      isLoopbackHost(host) ||
      (options.plainHttp ?? []).some(
        (h) => h.toLowerCase() === host.toLowerCase() || h.toLowerCase() === registry.toLowerCase(),
      );
    this.baseUrl = `${plain ? 'http' : 'https'}://${host}`;
    this.relayed = !!options.relay;
    this.waits = waitPolicy(options);
    const base = withRetry(
      withRedirects(withRelay(options.fetch ?? platformFetch, options.relay)),
      this.waits,
      options.retry,
    );
    this.anonymousFetcher = base;
    const credentials = typeof options.credentials === 'function' ? options.credentials(registry) : options.credentials;
    this.bodyDeadlineMs = options.bodyDeadlineMs;
    this.onWait = options.retry?.onWait;
    this.fetcher = new RegistryAuth(
      base,
      new URL(this.baseUrl).origin,
      credentials,
      undefined,
      {
        policy: this.waits,
        ...(options.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: options.bodyDeadlineMs } : {}),
      },
      role.push,
    ).fetch;
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
    const signal = init.signal ?? undefined;
    const wait = new RequestWait(this.waits, new URL(this.baseUrl).host);
    for (let attempt = 1; ; attempt++) {
      const response = await this.request(path, withWait(init, wait), what);
      try {
        const deadlineMs = Math.max(1, Math.min(this.bodyDeadlineMs ?? Infinity, wait.left()));
        return await read(response, deadlineMs, `${what} from ${wait.host}`);
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        if (isGivenUp(error)) throw error;
        const transient = error instanceof SkiffError && (error.code === 'network' || error.code === 'timeout');
        if (!transient) throw error;
        const pause = Math.min(250 * 2 ** (attempt - 1), 4_000);
        if (!wait.canRetry(pause)) throw wait.giveUp(error, error.code === 'timeout' ? 'too-slow' : undefined);
        this.onWait?.(`${error.message}; trying again (${wait.tries + 1} of ${this.waits.attempts})`);
        await sleep(pause, signal).catch(() => {
          throw abortError(signal);
        });
      }
    }
  }

  private request(path: string, init: RequestInit, what: string): Promise<Response> {
    return this.requestUrl(`${this.baseUrl}${path}`, init, what);
  }

  private async requestUrl(url: string, init: RequestInit, what: string): Promise<Response> {
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

  /**
   * Opens an upload (POST). With `mount`, asks the registry to link the blob from another repository
   * instead: `mounted` when it did (201); otherwise (202) an ordinary upload session to use.
   */
  async startUpload(
    repository: string,
    mount: { digest: string; from: string } | undefined,
    signal?: AbortSignal,
  ): Promise<{ mounted: true } | { mounted: false; session: UploadSession }> {
    const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const response = await this.request(
      `/v2/${repository}/blobs/uploads/${query}`,
      { method: 'POST', headers: { 'content-length': '0' }, ...(signal ? { signal } : {}) },
      `Starting an upload to ${repository}`,
    );
    discard(response);
    if (mount && response.status === 201) return { mounted: true };
    return { mounted: false, session: this.sessionFrom(response, `The upload to ${repository}`) };
  }

  /** PATCH one chunk at `start`; the answer's Location is where the next one goes. */
  async sendChunk(
    session: UploadSession,
    bytes: Uint8Array,
    start: number,
    signal?: AbortSignal,
  ): Promise<UploadSession> {
    const response = await this.requestUrl(
      session.location,
      {
        method: 'PATCH',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${start}-${start + bytes.byteLength - 1}`,
        },
        body: bytes as Uint8Array<ArrayBuffer>,
        ...(signal ? { signal } : {}),
      },
      'Uploading a chunk',
    );
    discard(response);
    return this.sessionFrom(response, 'The upload');
  }

  /** How many bytes of an upload the registry holds (GET on the session: `Range: 0-<last>`), or undefined when it lost the session. */
  async uploadedBytes(
    session: UploadSession,
    signal?: AbortSignal,
  ): Promise<{ bytes: number; session: UploadSession } | undefined> {
    let response: Response;
    try {
      response = await this.requestUrl(session.location, signal ? { signal } : {}, 'The upload status');
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof SkiffError && (error.code === 'not-found' || error.code === 'http')) return undefined;
      throw error;
    }
    discard(response);
    const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '');
    const bytes = range ? Number(range[1]) + 1 : 0;
    return { bytes, session: this.sessionFrom(response, 'The upload') };
  }

  /** PUT `?digest=`: the registry checks the digest of everything uploaded and commits the blob. */
  async finishUpload(session: UploadSession, digest: string, signal?: AbortSignal): Promise<void> {
    const url = new URL(session.location);
    url.searchParams.set('digest', digest);
    const response = await this.requestUrl(
      url.href,
      { method: 'PUT', headers: { 'content-length': '0' }, ...(signal ? { signal } : {}) },
      `Committing blob ${digest}`,
    );
    discard(response);
  }

  /** Abandons an upload, so a refused blob is never committed (best effort: registries expire them anyway). */
  async cancelUpload(session: UploadSession): Promise<void> {
    await this.requestUrl(session.location, { method: 'DELETE' }, 'Cancelling an upload')
      .then(discard)
      .catch(() => {});
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
   * The absolute registry URL an answer's Location names. Relative ones are the registry's; a relay's own
   * URL (the relay rewrites Locations to pass through itself) is turned back into the registry's, so the
   * auth layer still recognises it.
   */
  private sessionFrom(response: Response, what: string): UploadSession {
    const location = response.headers.get('location');
    if (!location) throw new SkiffError('http', `${what}: the registry answered ${response.status} without a Location`);
    let absolute = new URL(location, this.baseUrl).href;
    if (this.relay && absolute.startsWith(`${new URL(this.relay, this.baseUrl).href}/`)) {
      const rest = absolute.slice(new URL(this.relay, this.baseUrl).href.length + 1);
      absolute = `${new URL(this.baseUrl).protocol}//${rest}`;
    }
    return { location: absolute };
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

async function httpError(response: Response, what: string, relayed: boolean, readMs: number): Promise<SkiffError> {
  // An error page is a few bytes: one stall window of the wait policy is time enough to read it.
  const text = await readTextAtMost(response, 64 * 1024, what, readMs).catch(() => '');
  // The relay's own refusal: the registry may never have been contacted.
  const refusal = relayed ? relayRefusal(response.status, text, response.headers) : undefined;
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
    case 429: {
      const quota = parseQuotaRefusal(response.headers);
      const reset = quota.resetSeconds !== undefined ? `; it resets in ${quota.resetSeconds} s` : '';
      return new SkiffError(
        'rate-limited',
        `${what}: the registry is rate-limiting requests (429${reset}); wait a while or log in (${detail})`,
        { quota },
      );
    }
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
