import { SkiffError, abortError } from '../../errors.ts';
import type { PiecePool } from './body-pieces.ts';
import { networkError } from './retry.ts';
import type { RequestWait } from './waits.ts';
import { type BlobStalls, WatchedBody, blobStalls, failureOrResume } from './watched-body.ts';

export interface ResumeOptions {
  /** Bytes the blob is declared to have; reading more is an error at once. */
  size: number;
  what: string;
  signal?: AbortSignal;
  /** How many times a cut connection may be picked up again. */
  maxResumes?: number;
  /** The blob's stalls under the wait policy (waits.ts); made from the two legacy options below when not given. */
  stalls?: BlobStalls;
  /** A body that sends nothing for this long counts as cut. */
  idleTimeoutMs?: number;
  /**
   * Fewer bytes than this per second, over each `idleTimeoutMs`, count as stalled too (default 1024): an
   * idle timer alone is reset by every byte, so a registry dripping one byte a second would never end.
   */
  minBytesPerSecond?: number;
  /** Told why the body is being picked up again (a stall or a cut), and `undefined` once bytes flow again. */
  onStall?: (reason: string | undefined) => void;
  /** Start reading here instead of at 0 (what came before was had another way). */
  start?: number;
  /** Called once per request made. */
  onRequest?: () => void;
  /** Read the body into these pieces, where it can be (body-pieces.ts). */
  pieces?: PiecePool;
}

/**
 * Reads a blob body to the end, picking a cut connection up where it stopped with `Range: bytes=N-`
 * (like go-containerregistry's resumable transport). `open(offset)` makes the request; a registry that
 * ignores Range answers 200 and we skip the bytes we already have.
 */
export async function* resumableBody(
  open: (offset: number, wait: RequestWait) => Promise<Response>,
  options: ResumeOptions,
): AsyncGenerator<Uint8Array> {
  const { size, what, signal } = options;
  const maxResumes = options.maxResumes ?? 5;
  const stalls = blobStalls(options);
  let offset = options.start ?? 0;
  let stalled = false;
  let resumes = 0;
  options.onRequest?.();
  let response = await open(offset, stalls.requestWait());
  for (;;) {
    let skip = 0;
    if (offset > 0) {
      if (response.status === 206) {
        const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
        if (Number(start) !== offset)
          throw new SkiffError(
            'network',
            `${what}: the registry resumed at the wrong offset (${start ?? 'none'} instead of ${offset})`,
          );
      } else {
        skip = offset;
      }
    }
    if (!response.body) throw new SkiffError('network', `${what}: the response has no body`);
    const watch = new WatchedBody(response.body, stalls, what, () => `${offset} of ${size}`, options.pieces);
    try {
      for (;;) {
        const { done, value } = await watch.read();
        if (done) break;
        if (stalled) {
          stalled = false;
          options.onStall?.(undefined);
        }
        let chunk = value;
        if (skip > 0) {
          const n = Math.min(skip, chunk.byteLength);
          skip -= n;
          chunk = chunk.subarray(n);
          if (chunk.byteLength === 0) continue;
        }
        offset += chunk.byteLength;
        if (offset > size)
          throw new SkiffError('size-mismatch', `${what} is longer than the ${size} bytes its descriptor declares`);
        yield chunk;
      }
      if (offset < size) {
        // A body that ends early without an error is a cut too (proxies do this).
        throw new SkiffError('network', `${what}: the connection ended after ${offset} of ${size} bytes`);
      }
      return;
    } catch (error) {
      watch.cancel();
      const failure = failureOrResume(error, {
        signal,
        stalls,
        resumes,
        maxResumes,
        brokeOff: `${what}: the download broke off after ${offset} of ${size} bytes`,
      });
      if (failure) throw failure;
      resumes++;
      stalled = true;
      options.onStall?.(`${(error as Error).message}; trying again (${resumes} of ${maxResumes})`);
      try {
        options.onRequest?.();
        response = await open(offset, stalls.requestWait());
      } catch (reopenError) {
        if (signal?.aborted) throw abortError(signal);
        throw reopenError instanceof SkiffError ? reopenError : networkError('http://registry', reopenError);
      }
    }
  }
}
