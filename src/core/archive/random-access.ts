/**
 * What the archive reader reads from: a blob it may slice anywhere (a File or Blob in the browser, a file in
 * Node), each slice a stream. Nothing here holds more than a chunk: a layer of many GB is read as a stream.
 */
import type { Decoder } from '../codecs/decoder.ts';
import { SkiffError } from '../errors.ts';

export interface RandomAccessBlob {
  /** Bytes in the blob; for a decompressed view whose size is unknown until read, Infinity. */
  readonly size: number;
  /** The bytes [start, end) as a stream (fewer when the blob ends first). */
  slice(start: number, end: number): ReadableStream<Uint8Array>;
}

/** A File or Blob as a RandomAccessBlob (browsers; Node's Blob too). */
export function fromWebBlob(blob: Blob): RandomAccessBlob {
  return {
    size: blob.size,
    slice: (start, end) => blob.slice(start, end).stream() as ReadableStream<Uint8Array>,
  };
}

/** The part [start, start+size) of a blob, as a blob of its own (a tar entry, a zip member). */
export function subBlob(blob: RandomAccessBlob, start: number, size: number): RandomAccessBlob {
  return {
    size,
    slice: (from, to) => blob.slice(start + Math.min(from, size), start + Math.min(to, size)),
  };
}

/** Reads a small range whole (headers, JSON files); fewer bytes when the blob ends first. */
export async function readBytes(blob: RandomAccessBlob, start: number, end: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, Math.min(end, blob.size) - start));
  let at = 0;
  const reader = blob.slice(start, end).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const n = Math.min(value.byteLength, out.byteLength - at);
      out.set(value.subarray(0, n), at);
      at += n;
      if (at === out.byteLength) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return at === out.byteLength ? out : out.slice(0, at);
}

/**
 * A compressed tar (`docker save | gzip`) can only be read in order. This view decompresses the file as a
 * stream and serves slices at or after the point reached, skipping what lies between; a slice before that
 * point starts over from the beginning (correct, but costs a second pass: callers read in offset order).
 * Only one slice may be read at a time.
 */
export class SequentialDecompressedBlob implements RandomAccessBlob {
  readonly size = Infinity;
  /** How many times reading had to start over from the beginning. */
  restarts = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private decoder: Decoder | undefined;
  private pending: Uint8Array[] = [];
  private position = 0;
  private ended = false;

  constructor(
    private readonly compressed: RandomAccessBlob,
    private readonly makeDecoder: () => Decoder,
  ) {}

  private reset(): void {
    this.reader?.cancel().catch(() => {});
    this.reader = this.compressed.slice(0, this.compressed.size).getReader();
    this.decoder = this.makeDecoder();
    this.pending = [];
    this.position = 0;
    this.ended = false;
  }

  /** The next decompressed chunk, or undefined at the end. */
  private async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const queued = this.pending.shift();
      if (queued) return queued;
      if (this.ended) return undefined;
      const { done, value } = await this.reader!.read();
      // Decoders may reuse their output buffer: copy what is kept across reads.
      const out = done ? this.decoder!.finish() : this.decoder!.push(value);
      for (const chunk of out) if (chunk.byteLength) this.pending.push(chunk.slice());
      if (done) this.ended = true;
    }
  }

  slice(start: number, end: number): ReadableStream<Uint8Array> {
    let started = false;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (!started) {
          started = true;
          if (!this.reader || start < this.position) {
            if (this.reader) this.restarts++;
            this.reset();
          }
        }
        while (this.position < end) {
          const chunk = await this.next();
          if (!chunk) break;
          const from = this.position;
          this.position += chunk.byteLength;
          if (this.position <= start) continue;
          const lo = Math.max(0, start - from);
          const hi = Math.min(chunk.byteLength, end - from);
          // Bytes past `end` stay queued for the next slice.
          if (hi < chunk.byteLength) {
            this.pending.unshift(chunk.subarray(hi));
            this.position = end;
          }
          controller.enqueue(chunk.subarray(lo, hi));
          return;
        }
        controller.close();
      },
    });
  }
}

/** What the first bytes of a file say it is. */
export type Sniffed = 'gzip' | 'zstd' | 'zip' | 'bzip2' | 'xz' | 'other';

export function sniff(head: Uint8Array): Sniffed {
  const b = (i: number) => head[i];
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0x50 && b(1) === 0x4b && b(2) === 0x03 && b(3) === 0x04) return 'zip';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a) return 'xz';
  return 'other';
}

export function unsupportedCompression(kind: 'bzip2' | 'xz', what: string): SkiffError {
  return new SkiffError(
    'unsupported',
    `${what} is ${kind}-compressed, which Skiff does not read; decompress it first (${kind === 'xz' ? 'xz -d' : 'bunzip2'} FILE)`,
  );
}
