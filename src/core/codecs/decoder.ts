import { SkiffError } from '../errors.ts';

/**
 * A push-style decompressor: feed compressed chunks, get the uncompressed chunks they complete.
 * The engine drives decoders directly in its copy loop (one place for hashing, counting and backpressure);
 * `decoderStream` wraps one as a TransformStream for everyone else.
 */
export interface Decoder {
  push(chunk: Uint8Array): Uint8Array[];
  /** Ends the input; throws when the compressed stream was cut short. */
  finish(): Uint8Array[];
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
  push(chunk: Uint8Array): Uint8Array[] {
    return [chunk];
  }
  finish(): Uint8Array[] {
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
  count(chunks: Uint8Array[]): Uint8Array[] {
    for (const c of chunks) this.total += c.byteLength;
    if (this.total > this.limit) {
      throw new SkiffError('too-large', `${this.what} inflates to more than ${formatLimit(this.limit)}, the limit for one layer; raise maxLayerBytes if this image is genuine`);
    }
    return chunks;
  }
}

function formatLimit(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${+gib.toFixed(2)} GiB` : `${bytes} bytes`;
}
