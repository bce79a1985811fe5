import { SkiffError, abortError } from '../errors.ts';
import { readWithin } from '../bytes.ts';
import { networkError } from './retry.ts';

export interface ResumeOptions {
  /** Bytes the blob is declared to have; reading more is an error at once. */
  size: number;
  what: string;
  signal?: AbortSignal;
  /** How many times a cut connection may be picked up again. */
  maxResumes?: number;
  /** A body that sends nothing for this long counts as cut. */
  idleTimeoutMs?: number;
  /**
   * Fewer bytes than this per second, over each `idleTimeoutMs`, count as stalled too (default 1024): an
   * idle timer alone is reset by every byte, so a registry dripping one byte a second would never end.
   */
  minBytesPerSecond?: number;
  /** Told why the body is being picked up again (a stall or a cut), and `undefined` once bytes flow again. */
  onStall?: (reason: string | undefined) => void;
}

/**
 * Reads a blob body to the end, picking a cut connection up where it stopped with `Range: bytes=N-`
 * (like go-containerregistry's resumable transport). `open(offset)` makes the request; a registry that
 * ignores Range answers 200 and we skip the bytes we already have.
 */
export async function* resumableBody(
  open: (offset: number) => Promise<Response>,
  options: ResumeOptions,
): AsyncGenerator<Uint8Array> {
  const { size, what, signal } = options;
  const maxResumes = options.maxResumes ?? 5;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const minRate = options.minBytesPerSecond ?? 1024;
  const minWindowBytes = (minRate * idleTimeoutMs) / 1000;
  let offset = 0;
  let stalled = false;
  let resumes = 0;
  let response = await open(0);
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
    const reader = response.body.getReader();
    let windowStart = Date.now();
    let windowBytes = 0;
    let lastByteAt = windowStart;
    const tooSlow = (): SkiffError => {
      const seconds = Math.round(idleTimeoutMs / 1000);
      return new SkiffError(
        'timeout',
        `${what}: stalled, only ${windowBytes} bytes in ${seconds} s (less than ${minRate} bytes a second) after ${offset} of ${size} bytes`,
      );
    };
    try {
      for (;;) {
        const left = Math.max(1, windowStart + idleTimeoutMs - Date.now());
        const { done, value } = await readWithin(reader, left, what).catch((error: unknown) => {
          if (!(error instanceof SkiffError && error.code === 'timeout')) throw error;
          // Mostly silent since the last byte is a stall of its own; bytes still trickling in are too slow.
          const silence = windowBytes === 0 ? idleTimeoutMs : Date.now() - lastByteAt;
          if (silence < idleTimeoutMs / 2) throw tooSlow();
          throw new SkiffError('timeout', `${what}: no data for ${Math.max(1, Math.round(silence / 1000))} s`);
        });
        if (done) break;
        lastByteAt = Date.now();
        windowBytes += value.byteLength;
        if (Date.now() - windowStart >= idleTimeoutMs) {
          if (windowBytes < minWindowBytes) throw tooSlow();
          windowStart = Date.now();
          windowBytes = 0;
        }
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
      reader.cancel().catch(() => {});
      if (signal?.aborted) throw abortError(signal);
      const resumable = !(error instanceof SkiffError) || error.code === 'network' || error.code === 'timeout';
      if (!resumable || resumes >= maxResumes) {
        throw error instanceof SkiffError
          ? error
          : new SkiffError(
              'network',
              `${what}: the download broke off after ${offset} of ${size} bytes (${messageOf(error)})`,
              { cause: error },
            );
      }
      resumes++;
      stalled = true;
      options.onStall?.(`${(error as Error).message}; trying again (${resumes} of ${maxResumes})`);
      try {
        response = await open(offset);
      } catch (reopenError) {
        if (signal?.aborted) throw abortError(signal);
        throw reopenError instanceof SkiffError ? reopenError : networkError('http://registry', reopenError);
      }
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}
