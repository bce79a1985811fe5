/**
 * A blob body read under the wait policy (waits.ts): each response is watched for silence and for a trickle
 * below the minimum rate, and one blob's stalls — over its Range segments and resumes — decide when to give
 * up: once the blob has made no useful progress for the deadline, however many little bursts came between.
 */
import { SkiffError, abortError } from '../../errors.ts';
import type { PiecePool } from './body-pieces.ts';
import { RequestWait, type WaitKind, type WaitPolicy, giveUp, isGivenUp, waitPolicy } from './waits.ts';

const kinds = new WeakMap<Error, WaitKind>();

/** One read's most: about what a browser's network hands on at once. */
const LANDING_BYTES = 64 * 1024;

/**
 * One blob's stalls. A run of stalls begins when a response stops making useful progress; a response that
 * then flows for a whole window before its next stall starts a new run, so a slow but steady link, or one
 * that hiccups now and then, is never cut. A run older than the deadline gives up.
 */
export class BlobStalls {
  private since: number | undefined;
  private lastCut = -Infinity;

  constructor(
    readonly policy: WaitPolicy,
    readonly host: string,
  ) {}

  /** A response was cut for stalling; `from` is when it last made useful progress. True: give up. */
  cut(from: number): boolean {
    const now = Date.now();
    if (this.since === undefined || from - this.lastCut >= this.policy.idleMs) this.since = from;
    this.lastCut = now;
    return now - this.since >= this.policy.deadlineMs;
  }

  /** The patience of a request made for this blob: a resume of a stalling blob must answer by the run's end. */
  requestWait(): RequestWait {
    return new RequestWait(
      this.policy,
      this.host,
      this.since === undefined ? undefined : this.since + this.policy.deadlineMs,
    );
  }

  /** The error that ends the blob, naming the host and whether it kept stalling or sent too slowly. */
  giveUp(error: SkiffError): SkiffError {
    if (isGivenUp(error)) return error;
    const kind = kinds.get(error) ?? 'stalling';
    const seconds = Math.round((Date.now() - (this.since ?? Date.now())) / 1000);
    const how = kind === 'too-slow' ? 'sent too slowly' : 'kept stalling';
    return giveUp(error, this.host, kind, `: ${this.host} ${how}${seconds > 0 ? ` for ${seconds} s` : ''}`);
  }
}

/** The stalls of a blob read by someone who did not say: the policy from the legacy options. */
export function blobStalls(
  options: { stalls?: BlobStalls; idleTimeoutMs?: number; minBytesPerSecond?: number },
  host = 'the registry',
): BlobStalls {
  return (
    options.stalls ??
    new BlobStalls(
      waitPolicy({
        ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
        ...(options.minBytesPerSecond !== undefined ? { minBytesPerSecond: options.minBytesPerSecond } : {}),
      }),
      host,
    )
  );
}

/**
 * Reads one response body chunk by chunk and fails (a `timeout` SkiffError, which callers resume) when
 * nothing comes for the idle time, or when less than the minimum rate arrives over it: an idle timer alone is
 * reset by every byte, so a registry dripping one byte a second would never end. When the blob's stalls have
 * lasted the deadline, the failure is a give-up instead, which no one resumes.
 */
export class WatchedBody {
  private windowStart = Date.now();
  private windowBytes = 0;
  private lastByteAt = this.windowStart;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
  /** Reading into pieces: the one being filled, and how far. */
  private readonly pieces: PiecePool | undefined;
  private piece: Uint8Array<ArrayBuffer> | undefined;
  private fill = 0;
  /** What each read lands in before its bytes are copied into the piece: a read moves its buffer away, and
   *  a read that fails takes it along, so the piece itself never goes into a read. */
  private landing: Uint8Array<ArrayBuffer> | undefined;
  private ended = false;
  /** A failure that came while a piece was part filled: that piece goes out first, the failure next. */
  private failure: unknown;
  /** A read the window's end overtook: its bytes are still to come, to the next call. */
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly stalls: BlobStalls,
    private readonly what: string,
    /** Where the read is, for the message: `N of M`. */
    private readonly where: () => string,
    /** Read into these pieces when the body allows it (a byte stream: fetch in browsers and Node). */
    pieces?: PiecePool,
  ) {
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      if (pieces) byob = body.getReader({ mode: 'byob' });
    } catch {
      // Not a byte stream: its own chunks, as they come.
    }
    this.pieces = byob ? pieces : undefined;
    this.reader = byob ?? body.getReader();
  }

  /** The next chunk: a whole piece (the last may be shorter) when reading into pieces. */
  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const pieces = this.pieces;
    if (!pieces) return this.next();
    while (!this.ended) {
      const piece = (this.piece ??= pieces.take());
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.next();
      } catch (error) {
        // The bytes already in the piece are good: they go out, so a resume asks only for the rest.
        if (this.fill === 0) throw error;
        this.failure = error;
        this.ended = true;
        return this.emit(pieces);
      }
      const { done, value } = result;
      if (value) {
        piece.set(value, this.fill);
        this.fill += value.byteLength;
        this.landing = new Uint8Array(value.buffer as ArrayBuffer);
      }
      this.ended = done;
      if (this.fill > 0 && (done || this.fill === piece.byteLength)) return this.emit(pieces);
    }
    if (this.failure !== undefined) throw this.failure;
    return { done: true, value: undefined };
  }

  private emit(pieces: PiecePool): ReadableStreamReadResult<Uint8Array> {
    const bytes = pieces.filled(this.piece!.subarray(0, this.fill));
    this.piece = undefined;
    this.fill = 0;
    return { done: false, value: bytes };
  }

  /** One read of the body, watched. */
  private async next(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const { idleMs, minBytesPerSecond } = this.stalls.policy;
    for (;;) {
      this.pending ??= this.piece
        ? this.readLanding(this.piece.byteLength - this.fill)
        : (this.reader as ReadableStreamDefaultReader<Uint8Array>).read();
      const result = await within(this.pending, Math.max(1, this.windowStart + idleMs - Date.now()));
      if (!result) {
        // The window ended while a read waits. Enough came in it: a new window from the last byte on.
        const silence = Date.now() - this.lastByteAt;
        if (this.windowBytes >= (minBytesPerSecond * idleMs) / 1000) {
          this.windowStart = this.lastByteAt;
          this.windowBytes = 0;
          continue;
        }
        // Bytes still trickling in late in the window are too slow; a body silent for most of it stalled.
        if (this.windowBytes > 0 && silence < (idleMs * 3) / 4) throw this.stalled(this.tooSlow(), 'too-slow');
        const seconds = Math.max(1, Math.round(silence / 1000));
        throw this.stalled(
          new SkiffError('timeout', `${this.what}: no data for ${seconds} s after ${this.where()} bytes`),
          'stalling',
        );
      }
      this.pending = undefined;
      if (result.done) return result;
      this.lastByteAt = Date.now();
      this.windowBytes += result.value.byteLength;
      if (this.lastByteAt - this.windowStart >= idleMs) {
        if (this.windowBytes < (minBytesPerSecond * idleMs) / 1000) throw this.stalled(this.tooSlow(), 'too-slow');
        this.windowStart = this.lastByteAt;
        this.windowBytes = 0;
      }
      return result;
    }
  }

  private readLanding(room: number): Promise<ReadableStreamReadResult<Uint8Array>> {
    this.landing ??= new Uint8Array(LANDING_BYTES);
    const buffer = this.landing.buffer;
    this.landing = undefined;
    return (this.reader as ReadableStreamBYOBReader).read(new Uint8Array(buffer, 0, Math.min(buffer.byteLength, room)));
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
  }

  private stalled(error: SkiffError, kind: WaitKind): SkiffError {
    kinds.set(error, kind);
    return this.stalls.cut(this.windowStart) ? this.stalls.giveUp(error) : error;
  }

  private tooSlow(): SkiffError {
    const { idleMs, minBytesPerSecond } = this.stalls.policy;
    return new SkiffError(
      'timeout',
      `${this.what}: stalled, only ${this.windowBytes} bytes in ${Math.round(idleMs / 1000)} s (less than ${minBytesPerSecond} bytes a second) after ${this.where()} bytes`,
    );
  }
}

/** The promise's value, or undefined when `ms` pass first (the promise goes on). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a failed read of a blob's body comes to, the same for a whole blob (resume.ts) and a Range segment
 * (transfer/blob-fetch.ts): the failure to end with, or undefined when another request may resume it — a
 * cut or a stall, while resumes are left. `brokeOff` says where it broke, for a failure that is not ours.
 */
export function failureOrResume(
  error: unknown,
  read: { signal?: AbortSignal | undefined; stalls: BlobStalls; resumes: number; maxResumes: number; brokeOff: string },
): Error | undefined {
  if (read.signal?.aborted) return abortError(read.signal);
  if (isGivenUp(error)) return error as Error;
  const timedOut = error instanceof SkiffError && error.code === 'timeout';
  if (timedOut && read.resumes >= read.maxResumes) return read.stalls.giveUp(error);
  const resumable = !(error instanceof SkiffError) || error.code === 'network' || timedOut;
  if (resumable && read.resumes < read.maxResumes) return undefined;
  if (error instanceof SkiffError) return error;
  const message =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return new SkiffError('network', `${read.brokeOff} (${message})`, { cause: error });
}
