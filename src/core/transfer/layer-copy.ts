/**
 * Copies one blob through its stages: every chunk through every stage in order, then each stage drains,
 * then each checks what it saw. What the stages are is decided by the caller from the layer's action; the
 * copy itself never asks which mode the pull is in.
 */
import type { Sha256 } from '../codecs/sha256.ts';
import { abortError } from '../errors.ts';
import type { LayerCompression } from '../image/media-types.ts';
import type { EntryWriter } from '../archive/tar.ts';
import { type NativeInflate, nativeInflateStage } from './native-inflate.ts';
import {
  type Stage,
  countStage,
  digestStage,
  inflateStage,
  sizeLimitStage,
  tarStructureStage,
  writeStage,
} from './stages.ts';

export interface CopySpec {
  what: string;
  blobDigest: string;
  blobHash: Sha256;
  /** Inflate the blob, check its diff_id, tar structure and size bound; `size`: the count it must come to. */
  inflate?: {
    compression: LayerCompression;
    diffId: string;
    hash: Sha256;
    maxBytes: number;
    size?: number;
    /** What promised `size`, for the message when the count differs. */
    sizeFrom?: string;
    /** gzip only: inflate on the host's own gunzip, pako taking over where it stops (native-inflate.ts). */
    native?: NativeInflate;
  };
  /** The archive entry, and whether it takes the blob as served or inflated. */
  write?: { entry: EntryWriter; takes: 'blob' | 'inflated' };
}

export interface CopyResult {
  /** Bytes the blob inflated to (0 when it was not inflated). */
  inflatedBytes: number;
}

export interface CopyOptions {
  signal?: AbortSignal;
  onDrained?: () => void;
  /**
   * Called with each chunk once every stage is done with it, for a source that fills its buffers again
   * (scheduler.ts `reuse`). Not called where a stage may still read a chunk later.
   */
  release?: (chunk: Uint8Array) => void;
}

export async function copyLayer(
  source: AsyncIterable<Uint8Array>,
  spec: CopySpec,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { what } = spec;
  const stages: Stage[] = [digestStage(spec.blobHash, spec.blobDigest, what)];
  if (spec.write?.takes === 'blob') stages.push(writeStage(spec.write.entry));
  let count: ReturnType<typeof countStage> | undefined;
  let { release } = options;
  if (spec.inflate) {
    const inflated = spec.inflate;
    count = countStage(what, spec.write?.takes === 'inflated' ? inflated.size : undefined, inflated.sizeFrom);
    const after: Stage[] = [
      sizeLimitStage(inflated.maxBytes, what),
      // After the diff_id: a malformed tar is reported only once both digests are known to match.
      digestStage(inflated.hash, inflated.diffId, `${what} (uncompressed, diff_id)`),
      tarStructureStage(what),
      count,
    ];
    if (spec.write?.takes === 'inflated') after.push(writeStage(spec.write.entry));
    const native = inflated.native && inflated.compression === 'gzip';
    // The host's gunzip queues chunks, and the zstd decoder may keep input across pushes: no release there.
    if (native || inflated.compression === 'zstd') release = undefined;
    stages.push(
      native ? nativeInflateStage(inflated.native!, what, after) : inflateStage(inflated.compression, what, after),
    );
  }
  await run(source, stages, { ...options, release });
  return { inflatedBytes: count?.bytes ?? 0 };
}

async function run(
  source: AsyncIterable<Uint8Array>,
  stages: Stage[],
  { signal, onDrained, release }: CopyOptions,
): Promise<void> {
  for await (const chunk of source) {
    if (signal?.aborted) throw abortError(signal);
    for (const stage of stages) await stage.push(chunk);
    release?.(chunk);
  }
  for (const stage of stages) await stage.drain?.();
  onDrained?.();
  for (const stage of stages) await stage.verify?.();
}
