/**
 * One push's engine work: the archive file read again where the job runs (the File itself crosses to the
 * worker; WebKit cannot transfer a ReadableStream) and pushed by the core as a set (pushSet: each index with
 * all it names, every other image alone, each to its target), the file read in slices as each layer goes up. The engine worker (engine.worker.ts) runs it, or the page where that worker
 * cannot start (engine.ts); both call this.
 */
import { readArchive } from '../../core/archive/reader.ts';
import type { RandomAccessBlob } from '../../core/archive/random-access.ts';
import type { Sha256Factory } from '../../core/codecs/sha256.ts';
import { pushSet } from '../../core/push.ts';
import type { SetProgress, SetResult } from '../../core/transfer/set-to-registry.ts';
import type { TransportOptions } from '../../core/registry/client.ts';
import { gzipPool } from './gzip-pool.ts';

/**
 * What one push is: the archive file; where each of its units (core/push.ts's pushUnits, in that order)
 * goes — its own target, else under `prefix`; and whether to gzip uncompressed layers.
 */
export interface PushJob {
  kind: 'push';
  file: File;
  targets: (string | undefined)[];
  prefix?: string;
  compress: boolean;
}

/** Bytes read from the file at a time. */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * The file as the archive reader reads it, in slices of at most `piece` bytes, each read only when the
 * one before was taken: memory stays bounded in every browser (WebKit's `Blob.stream()` hands over a
 * whole slice as one chunk, a whole layer if a layer is asked for).
 */
export function slicedFile(file: Blob, piece = SLICE_BYTES): RandomAccessBlob {
  return {
    size: file.size,
    slice(start, end) {
      let at = Math.max(0, start);
      const stop = Math.min(end, file.size);
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (at >= stop) return controller.close();
            const next = Math.min(stop, at + piece);
            const bytes = new Uint8Array(await file.slice(at, next).arrayBuffer());
            at = next;
            controller.enqueue(bytes);
          },
        },
        { highWaterMark: 0 },
      );
    },
  };
}

/** Progress reaches the page at most this often while bytes flow, and once more as the job ends. */
const PROGRESS_MS = 250;

export async function runPushJob(
  job: PushJob,
  hooks: {
    transport: TransportOptions;
    signal: AbortSignal;
    sha256: Sha256Factory;
    onProgress: (progress: SetProgress) => void;
  },
): Promise<SetResult> {
  // The core reports every slice read; the page hears the latest every PROGRESS_MS, and the last one on the
  // way out (a failure then shows the bytes sent up to it, not those of a quarter second before).
  let latest: SetProgress | undefined;
  let sentAt = 0;
  let sentStates = '';
  const states = (progress: SetProgress) =>
    `${progress.blobs.map((l) => l.state).join()}|${progress.units.map((u) => u.state).join()}`;
  const flush = () => {
    if (!latest) return;
    hooks.onProgress(latest);
    sentStates = states(latest);
    latest = undefined;
    sentAt = Date.now();
  };
  // Uncompressed layers are gzipped over several cores; the workers start with the first such layer.
  const pool = gzipPool();
  try {
    const contents = await readArchive(slicedFile(job.file), hooks.signal);
    const choice = { targets: job.targets, ...(job.prefix ? { prefix: job.prefix } : {}) };
    return await pushSet(contents, choice, {
      ...hooks.transport,
      compress: job.compress,
      signal: hooks.signal,
      sha256: hooks.sha256,
      gzip: pool.gzip,
      progressIntervalMs: 0,
      onProgress: (progress) => {
        latest = progress;
        // A row changing state is told at once; bytes moving, every PROGRESS_MS.
        if (states(progress) !== sentStates || Date.now() - sentAt >= PROGRESS_MS) flush();
      },
    });
  } finally {
    pool.close();
    flush();
  }
}
