import { SkiffError } from '../errors.ts';

/**
 * A push-style decompressor: feed compressed chunks, get the uncompressed chunks they complete.
 * The engine drives decoders directly in its copy loop (one place for hashing, counting and backpressure);
 * `decoderStream` wraps one as a TransformStream for everyone else.
 */
export interface Decoder {
  /**
   * The uncompressed chunks this input completes, produced lazily as they are taken: a few KiB of zeros
   * inflate to MiBs, so a decoder feeds its library small slices and never holds more than one slice's output.
   */
  push(chunk: Uint8Array): Iterable<Uint8Array>;
  /** Ends the input; throws when the compressed stream was cut short. */
  finish(): Iterable<Uint8Array>;
}

/**
 * Cuts input into slices whose output stays near `target` bytes: the slice shrinks when the data
 * inflates a lot (zeros: 1000:1) and grows back when it does not.
 */
export class AdaptiveSlicer {
  private size = 64 * 1024;
  constructor(private readonly target = 1024 * 1024) {}

  *slices(chunk: Uint8Array, decode: (slice: Uint8Array) => Uint8Array[]): Generator<Uint8Array> {
    for (let at = 0; at < chunk.byteLength;) {
      const slice = chunk.subarray(at, at + this.size);
      at += slice.byteLength;
      let produced = 0;
      for (const out of decode(slice)) {
        produced += out.byteLength;
        yield out;
      }
      const ratio = produced / slice.byteLength;
      this.size = Math.max(1024, Math.min(64 * 1024, Math.floor(this.target / Math.max(ratio, 1))));
    }
  }
}

export function decoderStream(decoder: Decoder): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      for (const out of decoder.push(chunk)) controller.enqueue(out);
    },
    flush(controller) {
      for (const out of decoder.finish()) controller.enqueue(out);
    },
  });
}

/** Passes bytes through unchanged (uncompressed layers). */
export class IdentityDecoder implements Decoder {
  push(chunk: Uint8Array): Iterable<Uint8Array> {
    return [chunk];
  }
  finish(): Iterable<Uint8Array> {
    return [];
  }
}

/**
 * Bounds what a layer may inflate to. Legitimate layers of zeros inflate 1000:1, so the bound is on the
 * output size (generous, configurable), never on the ratio.
 */
export class OutputLimit {
  private total = 0;
  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {}
  *count(chunks: Iterable<Uint8Array>): Generator<Uint8Array> {
    for (const c of chunks) {
      this.total += c.byteLength;
      if (this.total > this.limit) {
        throw new SkiffError(
          'too-large',
          `${this.what} inflates to more than ${formatLimit(this.limit)}, the limit for one layer; raise maxLayerBytes if this image is genuine`,
        );
      }
      yield c;
    }
  }
}

function formatLimit(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${+gib.toFixed(2)} GiB` : `${bytes} bytes`;
}
