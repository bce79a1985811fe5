/**
 * One download's engine work — a tar of one or more images, or the zip kit — written into a stream. The
 * page runs it in the engine worker (engine.worker.ts) or, where that worker cannot start, on its own
 * thread (engine.ts); both call this, so both write the same archive.
 */
import type { Sha256Factory } from '../../core/codecs/sha256.ts';
import {
  type KitResult,
  type LayerMode,
  type PullResult,
  type TransferProgress,
  pull,
  pullKit,
} from '../../core/pull.ts';
import type { TransportOptions } from '../../core/registry/transport/options.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import type { ResolvedSet } from '../../core/registry/resolve-set.ts';
import type { WaitPolicy } from '../../core/registry/transport/waits.ts';
import { WRITE_CHUNK } from './sink.ts';

/**
 * What one download is: which images, into a tar or a kit (with each image's tar name), in which layer
 * mode. Resolved images are plain data: the same on the page and across the worker boundary. An image with
 * several (or all) platforms is its ResolvedSet: one tar of a kit, the index in the tar's OCI part.
 * `idleTimeoutMs`: a layer download that sends nothing for this long is cut and resumed; `parallel`: blob
 * requests at once (engine defaults if unset).
 */
export type DownloadJob = {
  images: (ResolvedImage | ResolvedSet)[];
  layers: LayerMode;
  idleTimeoutMs?: number;
  /** The wait policy's bounds (core/transport/waits.ts), when the host set them. */
  waits?: Partial<WaitPolicy>;
  parallel?: number;
} & ({ kind: 'tar' } | { kind: 'zip'; tarNames: string[] });

export type JobResult<J extends { kind: string }> = J extends { kind: 'zip' } ? KitResult : PullResult;

/** What the page hears from a running job, and how it stops it. */
export interface JobHooks {
  signal: AbortSignal;
  /** Progress of image `item` of a kit (always 0 for a tar). */
  onProgress: (item: number, progress: TransferProgress) => void;
}

/** Writes the archive into `sink` and closes it; on failure aborts it and rejects, as `pull` does.
 *  `sha256` makes the hashers for inflated layers (and the kit's tars): a worker's, ideally. Layers are
 *  inflated with the browser's `DecompressionStream` where it works (about twice pako's speed). */
export async function writeArchiveJob(
  job: DownloadJob,
  sink: WritableStream<Uint8Array>,
  hooks: JobHooks & {
    sha256: Sha256Factory;
    transport: TransportOptions;
    /** A tar's pieces from a pool the page gives them back to (see PullOptions.writeBuffer). */
    writeBuffer?: (size: number) => Uint8Array;
  },
): Promise<PullResult | KitResult> {
  // No native gunzip here (core/codecs/native-gunzip.ts `webGunzip`): in Chromium the browser's
  // DecompressionStream saved no measurable CPU in the engine worker, and its fresh buffer per piece raised a
  // 2 GB uncompressed pull's memory rise from ~200 to ~310 MiB (test/e2e/big-image.test.ts), past the 300 MB
  // bound; pako reuses one buffer. The CLI's zlib, which does gain, is passed in by the CLI.
  const settings = {
    ...(job.idleTimeoutMs ? { idleTimeoutMs: job.idleTimeoutMs } : {}),
    ...(job.waits ? { waits: job.waits } : {}),
    ...(job.parallel ? { parallel: job.parallel } : {}),
  };
  if (job.kind === 'tar') {
    return pull(job.images, sink, {
      ...hooks.transport,
      layers: job.layers,
      signal: hooks.signal,
      progressIntervalMs: 200,
      sha256: hooks.sha256,
      writeChunkBytes: WRITE_CHUNK,
      ...(hooks.writeBuffer ? { writeBuffer: hooks.writeBuffer } : {}),
      onProgress: (p) => hooks.onProgress(0, p),
      ...settings,
    });
  }
  return pullKit(
    job.images.map((image, i) => ({ image, tarName: job.tarNames[i]! })),
    sink,
    {
      ...hooks.transport,
      layers: job.layers,
      signal: hooks.signal,
      sha256: hooks.sha256,
      onProgress: hooks.onProgress,
      ...settings,
    },
  );
}
