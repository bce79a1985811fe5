import { Inflate } from 'pako';
import { SkiffError } from '../errors.ts';
import { AdaptiveSlicer, type Decoder } from './decoder.ts';

/**
 * Streaming gunzip on pako. Multi-member gzip (eStargz, `cat a.gz b.gz`) is legal in a layer: pako decodes
 * members that follow one another within one push, but when a member ends exactly at a chunk boundary it
 * reports `ended` and would drop what follows, so a new member starts a new Inflate.
 */
export class GunzipDecoder implements Decoder {
  private inflate: Inflate;
  private out: Uint8Array[] = [];
  private inputSeen = false;
  /** Output of the current Inflate, to notice when pako restarted it for a following member. */
  private memberOutput = 0;
  /** True once a second gzip member has been seen. */
  multiMember = false;
  private readonly slicer = new AdaptiveSlicer();

  constructor(private readonly what: string) {
    this.inflate = this.create();
  }

  private create(): Inflate {
    const inflate = new Inflate({ chunkSize: 256 * 1024 });
    inflate.onData = (chunk) => {
      this.out.push(chunk);
      this.memberOutput += chunk.byteLength;
    };
    inflate.onEnd = () => {};
    return inflate;
  }

  push(chunk: Uint8Array): Iterable<Uint8Array> {
    return this.slicer.slices(chunk, (slice) => this.pushSlice(slice));
  }

  private pushSlice(chunk: Uint8Array): Uint8Array[] {
    if (this.inflate.ended) {
      this.check();
      this.inflate = this.create();
      this.memberOutput = 0;
      this.multiMember = true;
    }
    this.inputSeen = true;
    this.inflate.push(chunk, false);
    this.check();
    // zlib's inflateReset, which pako runs between members, zeroes total_out: a shortfall means a new member.
    const totalOut = (this.inflate as unknown as { strm: { total_out: number } }).strm.total_out;
    if (totalOut < this.memberOutput) this.multiMember = true;
    return this.take();
  }

  finish(): Iterable<Uint8Array> {
    if (!this.inputSeen) throw new SkiffError('bad-layer', `${this.what} is empty where gzip data was expected`);
    if (!this.inflate.ended) {
      throw new SkiffError('bad-layer', `${this.what} ends in the middle of its gzip stream (truncated)`);
    }
    this.check();
    return this.take();
  }

  private check(): void {
    if (this.inflate.err) {
      throw new SkiffError('bad-layer', `${this.what} is not valid gzip data (${this.inflate.msg || `zlib error ${this.inflate.err}`})`);
    }
  }

  private take(): Uint8Array[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
