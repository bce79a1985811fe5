/**
 * One download's engine work — a tar of one or more images, or the zip kit — written into a stream. The
 * page runs it in the engine worker (engine.worker.ts) or, where that worker cannot start, on its own
 * thread (engine.ts); both call this, so both write the same archive.
 */
import type { Sha256Factory } from '../../core/codecs/sha256.ts';
import { type LayerMode, type PullProgress, type PullResult, pull } from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/resolve.ts';
import { WRITE_CHUNK } from './sink.ts';
import { type KitResult, writeKit } from './zipkit.ts';

/** `idleTimeoutMs`: a layer download that sends nothing for this long is cut and resumed; `parallel`: blob
 *  requests at once (engine defaults if unset). */
export type ArchiveJob =
  | { kind: 'tar'; images: ResolvedImage[]; layers: LayerMode; idleTimeoutMs?: number; parallel?: number }
  | {
      kind: 'zip';
      images: ResolvedImage[];
      tarNames: string[];
      layers: LayerMode;
      idleTimeoutMs?: number;
      parallel?: number;
    };

export type ArchiveResult<J extends ArchiveJob> = J extends { kind: 'zip' } ? KitResult : PullResult;

export interface JobOptions {
  signal: AbortSignal;
  /** Hashers for inflated layers (and the kit's tars): a worker's, ideally. */
  sha256: Sha256Factory;
  /** Progress of image `item` of a kit (always 0 for a tar). */
  onProgress: (item: number, progress: PullProgress) => void;
}

/** Writes the archive into `sink` and closes it; on failure aborts it and rejects, as `pull` does. */
export function writeArchiveJob(
  job: ArchiveJob,
  sink: WritableStream<Uint8Array>,
  options: JobOptions,
): Promise<PullResult | KitResult> {
  const idle = {
    ...(job.idleTimeoutMs ? { idleTimeoutMs: job.idleTimeoutMs } : {}),
    ...(job.parallel ? { parallel: job.parallel } : {}),
  };
  if (job.kind === 'tar') {
    return pull(job.images, sink, {
      layers: job.layers,
      signal: options.signal,
      progressIntervalMs: 200,
      layerSha256: options.sha256,
      writeChunkBytes: WRITE_CHUNK,
      onProgress: (p) => options.onProgress(0, p),
      ...idle,
    });
  }
  return writeKit(
    job.images.map((image, i) => ({ image, tarName: job.tarNames[i]! })),
    sink,
    { layers: job.layers, signal: options.signal, sha256: options.sha256, onProgress: options.onProgress, ...idle },
  );
}
