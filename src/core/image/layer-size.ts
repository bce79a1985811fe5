/**
 * How an uncompressed layer's size is known before its tar header is written. The header needs the size
 * first, and a compressed layer's size is only certain once it is inflated, so we plan per layer:
 * - uncompressed blobs: the descriptor's size;
 * - gzip: the trailer's ISIZE (fetched with one small Range request) when it can only mean one size,
 *   then proved while streaming — a wrong size stops the pull, it never reaches the output;
 * - where the size cannot be known in advance (no Range support, eStargz's many members, ISIZE
 *   ambiguous past 4 GiB): keep that one layer compressed as served; docker load reads gzip layers;
 * - zstd: inflate once to measure, then again to write (zstd's frame size is optional and usually absent,
 *   and dockerd before 25 cannot read zstd layers, so keeping them compressed would not load everywhere).
 */
import type { Descriptor } from './manifest.ts';
import type { LayerCompression } from './media-types.ts';

export type SizePlan =
  { kind: 'exact'; size: number } | { kind: 'keep-compressed'; reason: string } | { kind: 'measure' };

/** The most deflate can expand: 1032:1 (zlib's documented bound, a little over for headers). */
const MAX_DEFLATE_RATIO = 1032;
/** Ratios real layers have; outside them an ISIZE reading is not trusted when several sizes are possible. */
const PLAUSIBLE_RATIO = { min: 0.9, max: 16 };

const ESTARGZ_TOC = 'containerd.io/snapshot/stargz/toc.digest';
const ESTARGZ_SIZE = 'io.containers.estargz.uncompressed-size';

/** `gzipTail` is the blob's last 8 bytes (CRC32, ISIZE) when the registry honours Range. */
export function planLayerSize(
  descriptor: Descriptor,
  compression: LayerCompression,
  gzipTail: Uint8Array | undefined,
): SizePlan {
  const known = sizePlanWithoutTrailer(descriptor, compression);
  if (known) return known;
  if (!gzipTail || gzipTail.byteLength !== 8)
    return { kind: 'keep-compressed', reason: 'the registry does not serve byte ranges' };
  const isize = new DataView(gzipTail.buffer, gzipTail.byteOffset).getUint32(4, true);
  const size = sizeFromIsize(isize, descriptor.size);
  return size === undefined
    ? { kind: 'keep-compressed', reason: 'its size cannot be told from the gzip trailer (over 4 GiB)' }
    : { kind: 'exact', size };
}

/** The plan where no gzip trailer is needed; undefined when only the trailer can tell (plain gzip layers). */
export function sizePlanWithoutTrailer(descriptor: Descriptor, compression: LayerCompression): SizePlan | undefined {
  if (compression === 'none') return { kind: 'exact', size: descriptor.size };
  if (compression === 'zstd') return { kind: 'measure' };
  const stated = descriptor.annotations?.[ESTARGZ_SIZE];
  if (stated && /^\d+$/.test(stated) && Number.isSafeInteger(Number(stated)))
    return { kind: 'exact', size: Number(stated) };
  if (descriptor.annotations?.[ESTARGZ_TOC])
    return { kind: 'keep-compressed', reason: 'eStargz layer of many gzip members' };
  return undefined;
}

/** ISIZE is the size mod 2^32; returns the one size it can mean, or undefined when several are plausible. */
export function sizeFromIsize(isize: number, compressedSize: number): number | undefined {
  const most = compressedSize * MAX_DEFLATE_RATIO;
  if (most < 2 ** 32) return isize;
  const plausible: number[] = [];
  for (let size = isize; size <= most; size += 2 ** 32) {
    const ratio = size / compressedSize;
    if (ratio >= PLAUSIBLE_RATIO.min && ratio <= PLAUSIBLE_RATIO.max) plausible.push(size);
  }
  return plausible.length === 1 ? plausible[0] : undefined;
}
