import { SkiffError, abortError } from '../../errors.ts';
import { readWithin } from '../../bytes.ts';
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
  /** Start reading here instead of at 0 (what came before was had another way). */
  start?: number;
  /** Called once per request made. */
  onRequest?: () => void;
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
  let offset = options.start ?? 0;
  let stalled = false;
  let resumes = 0;
  options.onRequest?.();
  let response = await open(offset);
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
    const watch = new StallWatch(reader, idleTimeoutMs, options.minBytesPerSecond, what, () => `${offset} of ${size}`);
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
        options.onRequest?.();
        response = await open(offset);
      } catch (reopenError) {
        if (signal?.aborted) throw abortError(signal);
        throw reopenError instanceof SkiffError ? reopenError : networkError('http://registry', reopenError);
      }
    }
  }
}

/**
 * Reads a body chunk by chunk and gives up (a `timeout` SkiffError, which callers resume) when nothing comes
 * for the idle time, or when less than the minimum rate (default 1024 B/s) arrives over it: an idle timer
 * alone is reset by every byte, so a registry dripping one byte a second would never end.
 */
export class StallWatch {
  private windowStart = Date.now();
  private windowBytes = 0;
  private lastByteAt = this.windowStart;
  private readonly minRate: number;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly idleTimeoutMs: number,
    minBytesPerSecond: number | undefined,
    private readonly what: string,
    /** Where the read is, for the message: `N of M`. */
    private readonly where: () => string,
  ) {
    this.minRate = minBytesPerSecond ?? 1024;
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const left = Math.max(1, this.windowStart + this.idleTimeoutMs - Date.now());
    const result = await readWithin(this.reader, left, this.what).catch((error: unknown) => {
      if (!(error instanceof SkiffError && error.code === 'timeout')) throw error;
      // Mostly silent since the last byte is a stall of its own; bytes still trickling in are too slow.
      const silence = this.windowBytes === 0 ? this.idleTimeoutMs : Date.now() - this.lastByteAt;
      if (silence < this.idleTimeoutMs / 2) throw this.tooSlow();
      throw new SkiffError('timeout', `${this.what}: no data for ${Math.max(1, Math.round(silence / 1000))} s`);
    });
    if (result.done) return result;
    this.lastByteAt = Date.now();
    this.windowBytes += result.value.byteLength;
    if (this.lastByteAt - this.windowStart >= this.idleTimeoutMs) {
      if (this.windowBytes < (this.minRate * this.idleTimeoutMs) / 1000) throw this.tooSlow();
      this.windowStart = this.lastByteAt;
      this.windowBytes = 0;
    }
    return result;
  }

  private tooSlow(): SkiffError {
    return new SkiffError(
      'timeout',
      `${this.what}: stalled, only ${this.windowBytes} bytes in ${Math.round(this.idleTimeoutMs / 1000)} s (less than ${this.minRate} bytes a second) after ${this.where()} bytes`,
    );
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}
