import {
  ZStream,
  Z_BUF_ERROR,
  Z_NO_FLUSH,
  Z_OK,
  Z_STREAM_END,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateReset,
} from 'pako';
import { SkiffError } from '../errors.ts';
import type { Decoder } from './decoder.ts';

/** zlib's window bits plus 32: a gzip (or zlib) header is detected, as pako's Inflate does by default. */
const WINDOW_BITS = 15 + 32;
const DEFAULT_OUTPUT = 1024 * 1024;

export interface GunzipOptions {
  /**
   * Inflate into one buffer, over and over: each chunk yielded is a view that is valid only until the
   * next one is taken. No garbage per chunk (a GiB layer would otherwise leave a GiB of buffers for the
   * collector); only for a consumer that copies or finishes with each chunk before taking the next.
   */
  reuseOutput?: boolean;
  /** Bytes per output chunk (default 1 MiB). */
  outputSize?: number;
}

/**
 * Streaming gunzip on pako's zlib port, driven directly so that memory stays bounded: each call to zlib
 * inflates at most one output buffer, so a few KiB of zeros that inflate to MiBs are handed on a buffer at
 * a time, never gathered. Multi-member gzip (eStargz, `cat a.gz b.gz`) is legal in a layer: when a member
 * ends and more input follows, the next member starts (and `multiMember` says so). Zero bytes after the
 * last member are padding and ignored, as gzip(1) does; anything else after it must be a gzip member.
 */
export class GunzipDecoder implements Decoder {
  private readonly strm = new ZStream();
  private readonly outputSize: number;
  private readonly reuse: boolean;
  private inputSeen = false;
  /** The current member has ended (Z_STREAM_END). */
  private ended = false;
  /** Only zero padding may follow. */
  private padding = false;
  /** True once a second gzip member has been seen. */
  multiMember = false;

  /** True once zero padding after the last member has been seen. */
  get padded(): boolean {
    return this.padding;
  }

  constructor(
    private readonly what: string,
    options: GunzipOptions = {},
  ) {
    this.outputSize = options.outputSize ?? DEFAULT_OUTPUT;
    this.reuse = options.reuseOutput ?? false;
    const status = zlibInflateInit2(this.strm, WINDOW_BITS);
    if (status !== Z_OK) throw new SkiffError('bad-layer', `${what}: zlib could not start (${status})`);
    this.strm.output = new Uint8Array(this.outputSize);
    this.strm.next_out = 0;
    this.strm.avail_out = this.outputSize;
  }

  *push(chunk: Uint8Array): Generator<Uint8Array> {
    if (chunk.byteLength === 0) return;
    this.inputSeen = true;
    if (this.padding) {
      this.checkPadding(chunk, 0);
      return;
    }
    const strm = this.strm;
    strm.input = chunk;
    strm.next_in = 0;
    strm.avail_in = chunk.byteLength;
    try {
      yield* this.run();
    } finally {
      strm.input = EMPTY;
      strm.next_in = 0;
      strm.avail_in = 0;
    }
  }

  *finish(): Generator<Uint8Array> {
    if (!this.inputSeen) throw new SkiffError('bad-layer', `${this.what} is empty where gzip data was expected`);
    // Output zlib still holds for input already taken (the last push may have ended on a full buffer).
    if (!this.ended) yield* this.run();
    if (!this.ended)
      throw new SkiffError('bad-layer', `${this.what} ends in the middle of its gzip stream (truncated)`);
  }

  /** Inflates what input there is, a buffer at a time, until zlib needs more input or the stream ends. */
  private *run(): Generator<Uint8Array> {
    const strm = this.strm;
    for (;;) {
      if (this.ended) {
        if (strm.avail_in === 0) return;
        if (strm.input[strm.next_in] === 0) {
          this.padding = true;
          this.checkPadding(strm.input, strm.next_in);
          strm.avail_in = 0;
          return;
        }
        // Another member follows.
        zlibInflateReset(strm);
        this.ended = false;
        this.multiMember = true;
      }
      const status = zlibInflate(strm, Z_NO_FLUSH);
      if (status === Z_STREAM_END) this.ended = true;
      else if (status !== Z_OK && status !== Z_BUF_ERROR) {
        throw new SkiffError(
          'bad-layer',
          `${this.what} is not valid gzip data (${strm.msg || `zlib error ${status}`})`,
        );
      }
      const full = strm.avail_out === 0;
      if (strm.next_out > 0 && (full || strm.avail_in === 0 || this.ended)) {
        let out: Uint8Array;
        if (this.reuse) out = strm.output.subarray(0, strm.next_out);
        else if (full) {
          // The whole buffer changes hands; a part is copied, so small outputs never pin a large buffer.
          out = strm.output;
          strm.output = new Uint8Array(this.outputSize);
        } else out = strm.output.slice(0, strm.next_out);
        strm.next_out = 0;
        strm.avail_out = this.outputSize;
        yield out;
      }
      // A full buffer may mean zlib has more to give for input it already took; otherwise wait for input.
      if (!full && (strm.avail_in === 0 || status === Z_BUF_ERROR) && !this.ended) return;
    }
  }

  private checkPadding(bytes: Uint8Array, from: number): void {
    for (let i = from; i < bytes.byteLength; i++) {
      if (bytes[i] !== 0)
        throw new SkiffError(
          'bad-layer',
          `${this.what} has data after the end of its gzip stream that is not a gzip member`,
        );
    }
  }
}

const EMPTY = new Uint8Array(0);
