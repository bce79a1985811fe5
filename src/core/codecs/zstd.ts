import { Decompress } from 'fzstd';
import { SkiffError } from '../errors.ts';
import { AdaptiveSlicer, type Decoder } from './decoder.ts';

/** Streaming zstd (all frames of a multi-frame stream) on fzstd. */
export class ZstdDecoder implements Decoder {
  private readonly decompress: Decompress;
  private out: Uint8Array[] = [];
  private readonly slicer = new AdaptiveSlicer();

  constructor(private readonly what: string) {
    this.decompress = new Decompress((data) => {
      if (data.byteLength) this.out.push(data);
    });
  }

  push(chunk: Uint8Array): Iterable<Uint8Array> {
    return this.slicer.slices(chunk, (slice) => this.run(slice, false));
  }

  finish(): Iterable<Uint8Array> {
    return this.run(new Uint8Array(0), true);
  }

  private run(chunk: Uint8Array, final: boolean): Uint8Array[] {
    try {
      this.decompress.push(chunk, final);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new SkiffError('bad-layer', `${this.what} is not valid zstd data (${detail})`, { cause: error });
    }
    const out = this.out;
    this.out = [];
    return out;
  }
}
