/**
 * Where a layer's bytes come from: the registry, or a foreign layer's own URLs (fetched without
 * credentials); whole, from an offset on (resume), or one Range segment of it checked strictly.
 */
import { SkiffError, abortError } from '../errors.ts';
import { isForeignLayer } from '../image/media-types.ts';
import type { Descriptor } from '../image/manifest.ts';
import type { RegistryClient } from '../registry/client.ts';
import { discard } from '../registry/transport/fetcher.ts';
import type { PiecePool } from '../registry/transport/body-pieces.ts';
import { networkError } from '../registry/transport/retry.ts';
import type { RequestWait } from '../registry/transport/waits.ts';
import { type BlobStalls, WatchedBody, blobStalls, failureOrResume } from '../registry/transport/watched-body.ts';

/** Requests the blob from `offset` on; up to byte `last` (inclusive) when given; no Range at all from 0 to the end. */
export type BlobOpener = (
  offset: number,
  last: number | undefined,
  signal: AbortSignal | undefined,
  /** The request's patience under the wait policy (a resume of a stalling blob has less). */
  wait?: RequestWait,
) => Promise<Response>;

export function layerOpener(client: RegistryClient, repository: string, descriptor: Descriptor): BlobOpener {
  const urls = isForeignLayer(descriptor.mediaType)
    ? (descriptor.urls ?? []).filter((u) => /^https?:\/\//i.test(u))
    : [];
  if (urls.length === 0) {
    return async (offset, last, signal, wait) => {
      try {
        return await client.openBlob(repository, descriptor.digest, offset, signal, last, wait);
      } catch (error) {
        if (error instanceof SkiffError && error.code === 'not-found' && isForeignLayer(descriptor.mediaType)) {
          throw new SkiffError(
            'not-found',
            `Layer ${descriptor.digest} is a non-distributable (foreign) layer that lists no URL to fetch it from, and the registry does not hold it`,
          );
        }
        throw error;
      }
    };
  }
  return async (offset, last, signal) => {
    let lastError: unknown;
    for (const url of urls) {
      try {
        const ranged = offset > 0 || last !== undefined;
        const response = await client.anonymousFetcher(url, {
          headers: ranged ? { range: `bytes=${offset}-${last ?? ''}` } : {},
          ...(signal ? { signal } : {}),
        });
        if (response.ok) return response;
        discard(response);
        lastError = new SkiffError('http', `Foreign layer URL ${url} answered HTTP ${response.status}`);
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        lastError = error;
      }
    }
    throw lastError instanceof SkiffError
      ? lastError
      : new SkiffError('network', `No URL of foreign layer ${descriptor.digest} could be fetched`, {
          cause: lastError,
        });
  };
}

/** The host a layer's bytes come from, for messages: the registry's, or a foreign layer's first URL's. */
export function blobHost(client: RegistryClient, descriptor: Descriptor): string {
  const url = isForeignLayer(descriptor.mediaType) ? descriptor.urls?.[0] : client.baseUrl;
  return URL.canParse(url ?? '') ? new URL(url!).host : 'the layer URL';
}

/** A segment request answered with something else than exactly the bytes asked for: read the blob in one stream. */
export class RangeRefused extends Error {
  override readonly name = 'RangeRefused';
}

export interface RangeReadOptions {
  what: string;
  /** The blob's size, as the descriptor declares it. */
  total: number;
  signal: AbortSignal;
  /** The blob's stalls, shared by its segments (transport/watched-body.ts). */
  stalls?: BlobStalls;
  idleTimeoutMs?: number;
  minBytesPerSecond?: number;
  maxResumes?: number;
  onRequest?: () => void;
  /** Read the body into these pieces, where it can be (body-pieces.ts). */
  pieces?: PiecePool;
  /** Told why the range is being asked for again, and `undefined` once bytes flow again. */
  onStall?: (reason: string | undefined) => void;
}

/**
 * Reads bytes [start, end) of a blob with `Range: bytes=start-(end-1)`, handing each chunk to `push`. The
 * answer must be a 206 whose Content-Range names exactly that range; anything else (a 200 with the whole
 * blob, another range) is RangeRefused. A cut is picked up where it stopped, like a whole blob's.
 */
export async function fetchSegment(
  open: BlobOpener,
  start: number,
  end: number,
  options: RangeReadOptions,
  push: (chunk: Uint8Array) => void,
): Promise<void> {
  const { what, signal } = options;
  const maxResumes = options.maxResumes ?? 5;
  const stalls = blobStalls(options);
  let at = start;
  let stalled = false;
  for (let resumes = 0; ; resumes++) {
    let response: Response;
    try {
      options.onRequest?.();
      response = await open(at, end - 1, signal, stalls.requestWait());
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw error instanceof SkiffError ? error : networkError('http://registry', error);
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((response.headers.get('content-range') ?? '').trim());
    if (
      response.status !== 206 ||
      !range ||
      Number(range[1]) !== at ||
      Number(range[2]) !== end - 1 ||
      (range[3] !== '*' && Number(range[3]) !== options.total)
    ) {
      discard(response);
      throw new RangeRefused(
        `${what}: asked for bytes ${at}-${end - 1}, got HTTP ${response.status} ${response.headers.get('content-range') ?? '(no Content-Range)'}`,
      );
    }
    if (!response.body) throw new SkiffError('network', `${what}: the response has no body`);
    const watch = new WatchedBody(response.body, stalls, what, () => `${at} of ${start}-${end - 1}`, options.pieces);
    try {
      for (;;) {
        const { done, value } = await watch.read();
        if (done) break;
        if (stalled) {
          stalled = false;
          options.onStall?.(undefined);
        }
        if (at + value.byteLength > end) {
          throw new SkiffError('size-mismatch', `${what}: the range ${start}-${end - 1} came back longer than asked`);
        }
        at += value.byteLength;
        push(value);
      }
      if (at < end)
        throw new SkiffError('network', `${what}: the connection ended at byte ${at} of ${start}-${end - 1}`);
      return;
    } catch (error) {
      watch.cancel();
      const failure = failureOrResume(error, {
        signal,
        stalls,
        resumes,
        maxResumes,
        brokeOff: `${what}: the download broke off at byte ${at} of ${start}-${end - 1}`,
      });
      if (failure) throw failure;
      stalled = true;
      options.onStall?.(`${(error as Error).message}; trying again (${resumes + 1} of ${maxResumes})`);
    }
  }
}
