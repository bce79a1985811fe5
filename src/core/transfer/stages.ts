/**
 * The small transforms a layer's bytes pass through, each doing one thing (like go-containerregistry's
 * `internal/verify` wrapping a stream rather than the copy loop branching): a stage takes chunks, may
 * hand what it makes to the stages after it, drains at the end of input, then checks what it saw.
 */
import { type Decoder, IdentityDecoder, OutputLimit } from '../codecs/decoder.ts';
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { type Sha256, verifyDigest } from '../codecs/sha256.ts';
import { ZstdDecoder } from '../codecs/zstd.ts';
import { SkiffError } from '../errors.ts';
import type { LayerCompression } from '../image/media-types.ts';
import { TarChecker } from '../archive/tar-check.ts';
import type { EntryWriter } from '../archive/tar.ts';

export interface Stage {
  push(chunk: Uint8Array): void | Promise<void>;
  /** The input has ended: produce what is left, and throw if the data is cut short. */
  drain?(): void | Promise<void>;
  /** After every stage drained: throw if what passed is not what was promised. */
  verify?(): void | Promise<void>;
}

/** Hashes what passes and checks it against a digest. */
export function digestStage(hash: Sha256, expected: string, what: string): Stage {
  return {
    push: (chunk) => hash.update(chunk),
    verify: async () => verifyDigest(await hash.digest(), expected, what),
  };
}

/** Inflates what passes and hands each piece to `next` (in order) before it inflates more. */
export function inflateStage(compression: LayerCompression, what: string, next: Stage[]): Stage {
  const decoder = makeDecoder(compression, what);
  const forward = async (pieces: Iterable<Uint8Array>) => {
    for (const piece of pieces) for (const stage of next) await stage.push(piece);
  };
  return {
    push: (chunk) => forward(decoder.push(chunk)),
    drain: async () => {
      await forward(decoder.finish());
      for (const stage of next) await stage.drain?.();
    },
    verify: async () => {
      for (const stage of next) await stage.verify?.();
    },
  };
}

/** Bounds a layer's inflated size (a gzip bomb), never its ratio (layers of zeros are genuine). */
export function sizeLimitStage(maxBytes: number, what: string): Stage {
  const limit = new OutputLimit(maxBytes, what);
  return {
    push: (chunk) => {
      for (const _ of limit.count([chunk]));
    },
  };
}

/**
 * Follows the tar structure of an inflated layer (a right digest can still hold a broken archive). What it
 * finds is told only at `verify`, after the digests before it: a broken tar whose digests match is the
 * image's own, not damage on the way, and the message must say which.
 */
export function tarStructureStage(what: string): Stage {
  const checker = new TarChecker(what);
  let malformed: unknown;
  const check = (step: () => void) => {
    if (malformed !== undefined) return;
    try {
      step();
    } catch (error) {
      malformed = error;
    }
  };
  return {
    push: (chunk) => check(() => checker.push(chunk)),
    drain: () => check(() => checker.finish()),
    verify: () => {
      if (malformed !== undefined) throw malformed;
    },
  };
}

/** Counts bytes; with `expected`, the count must come out at exactly that. */
export function countStage(
  what: string,
  expected?: number,
  promisedBy = 'its gzip trailer',
): Stage & { readonly bytes: number } {
  let bytes = 0;
  return {
    get bytes() {
      return bytes;
    },
    push: (chunk) => void (bytes += chunk.byteLength),
    verify: () => {
      if (expected !== undefined && bytes !== expected) {
        throw new SkiffError(
          'size-mismatch',
          `${what} inflates to ${bytes} bytes, not the ${expected} ${promisedBy} promised; pull with the as-pulled layer mode instead`,
        );
      }
    },
  };
}

/** Writes what passes into an archive entry (opened with the size the plan settled). */
export function writeStage(entry: EntryWriter): Stage {
  return { push: (chunk) => entry.write(chunk) };
}

function makeDecoder(compression: LayerCompression, what: string): Decoder {
  // Each piece has passed every later stage before the next is made: one output buffer serves the whole layer.
  if (compression === 'gzip') return new GunzipDecoder(what, { reuseOutput: true });
  if (compression === 'zstd') return new ZstdDecoder(what);
  return new IdentityDecoder();
}
