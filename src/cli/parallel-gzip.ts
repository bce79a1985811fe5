/**
 * gzip over every core, as pigz and Go's pgzip (what skopeo uses) do: the input is cut into 1 MiB blocks,
 * each deflated on libuv's thread pool with the 32 KiB before it as its dictionary and ended by a sync flush
 * (an empty stored block, so it ends on a byte), then the deflate streams are joined in order behind one gzip
 * header, closed by an empty final block and the trailer (crc32 and size of the whole input). One gzip
 * stream, as any inflater reads it; its bytes differ from a one-thread zlib's, so its digest does too —
 * which a layer gzipped on the way has anyway. Node's zlib does the work; this only cuts and joins.
 */
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw } from 'node:zlib';
import type { Gzip } from '../core/codecs/gzip.ts';

const deflateRawAsync = promisify(deflateRaw);
const BLOCK_BYTES = 1 << 20;
/** How far back deflate looks: the dictionary each block gets from the one before. */
const WINDOW_BYTES = 32 << 10;
/** gzip header: deflate, no name, no mtime, OS unknown. */
const HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block (fixed Huffman, end of block): what ends the joined deflate streams. */
const LAST_BLOCK = new Uint8Array([3, 0]);

/** Bytes of each of the samples a block is probed with, and how many, spread over the block. */
const SAMPLE_BYTES = 16 << 10;
const SAMPLES = 4;
/** At or above this ratio at level 1 the samples did not compress: the block goes stored (level 0). */
const INCOMPRESSIBLE = 0.97;
/** Below this ratio at level 1, a higher level could save less than 5 % of the block: level 1 it is. */
const NEARLY_EMPTY = 0.05;

/**
 * The level a block is deflated at, from samples deflated at level 1 (a sixteenth of the block, at the
 * cheapest level): already-compressed data is stored rather than searched for matches it does not have
 * (zlib's level 6 spends as long on 1 MB of noise as on 10 MB of zeros and saves nothing), and data that
 * nearly vanishes (zeros, sparse files) takes level 1, about 4× faster than level 6 here. The skip is what
 * Go's flate (pgzip, skopeo) does for incompressible data; everything else gets the level asked for.
 */
async function blockLevel(block: Uint8Array, level: number): Promise<number> {
  if (level <= 1) return level;
  const step = Math.floor(block.byteLength / SAMPLES);
  // One deflate of the samples side by side: one zlib set-up per block, not one per sample.
  const sample =
    step < SAMPLE_BYTES
      ? block
      : Buffer.concat(Array.from({ length: SAMPLES }, (_, i) => block.subarray(i * step, i * step + SAMPLE_BYTES)));
  const ratio = (await deflateRawAsync(sample, { level: 1 })).byteLength / sample.byteLength;
  return ratio >= INCOMPRESSIBLE ? 0 : ratio < NEARLY_EMPTY ? 1 : level;
}

/**
 * `inFlight` blocks are compressed at once (default four per core: the pool's round trips are short, and
 * on a busy machine fewer left cores idle between blocks).
 */
export function parallelGzip(inFlight = 4 * availableParallelism()): Gzip {
  return async function* (source, level = 6) {
    yield HEADER;
    let crc = 0;
    let size = 0;
    let previous: Uint8Array | undefined;
    const pending: { block: Uint8Array<ArrayBuffer>; deflated: Promise<Uint8Array> }[] = [];
    // Blocks are reused once done: a block is read by its own deflate and, as dictionary, by the next one.
    const spare: Uint8Array<ArrayBuffer>[] = [];
    let lastDone: Uint8Array<ArrayBuffer> | undefined;
    const next = async () => {
      const { block, deflated } = pending.shift()!;
      const out = await deflated;
      if (lastDone?.byteLength === BLOCK_BYTES && spare.length < inFlight) spare.push(lastDone);
      lastDone = block;
      return out;
    };
    const launch = (block: Uint8Array<ArrayBuffer>) => {
      crc = crc32(block, crc);
      size += block.byteLength;
      const dictionary = previous?.subarray(Math.max(0, previous.byteLength - WINDOW_BYTES));
      const deflated = blockLevel(block, level).then((chosen) =>
        deflateRawAsync(block, {
          level: chosen,
          finishFlush: constants.Z_SYNC_FLUSH,
          ...(dictionary ? { dictionary } : {}),
        }),
      );
      deflated.catch(() => {}); // awaited in order below; a failure is seen there
      pending.push({ block, deflated });
      previous = block;
    };
    let block = new Uint8Array(BLOCK_BYTES);
    let fill = 0;
    for await (const chunk of source) {
      for (let at = 0; at < chunk.byteLength;) {
        const n = Math.min(BLOCK_BYTES - fill, chunk.byteLength - at);
        block.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === BLOCK_BYTES) {
          launch(block);
          block = spare.pop() ?? new Uint8Array(BLOCK_BYTES);
          fill = 0;
        }
      }
      while (pending.length >= inFlight) yield await next();
    }
    if (fill > 0) launch(block.subarray(0, fill));
    while (pending.length > 0) yield await next();
    yield LAST_BLOCK;
    const trailer = new Uint8Array(8);
    const view = new DataView(trailer.buffer);
    view.setUint32(0, crc >>> 0, true);
    view.setUint32(4, size % 2 ** 32, true);
    yield trailer;
  };
}
