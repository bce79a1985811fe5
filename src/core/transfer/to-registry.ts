/**
 * The transfer into a registry (push, copy): every layer of every image first — each checked by its
 * source as it is read and committed only when the checks pass, so a bad source is refused before any
 * manifest is put (nothing is tagged) — then each image's config and manifest. A blob the registry holds
 * is skipped, one another repository got in this run is mounted; the same source blob for the same
 * repository moves once. Like regclient's ImageCopy over one BlobCopy: the source decides how bytes are
 * read and checked (source.ts), the destination how they are stored (registry-destination.ts).
 */
import { sha256Of } from '../codecs/sha256.ts';
import { SkiffError, abortError } from '../errors.ts';
import { familiarName, formatReference } from '../image/reference.ts';
import { ProgressReporter } from './progress.ts';
import type { RegistryDestination } from './registry-destination.ts';
import { type MovedLayer, type SourceImage, type SourceLayer, manifestFor } from './source.ts';
import type { BlobProgress, TransferProgress, TransferredImage, TransferResult } from './types.ts';
import type { ImageReference } from '../image/reference.ts';
import type { BlobStream } from '../registry/upload.ts';

type ManifestBytes = { bytes: Uint8Array; digest: string; mediaType: string };
type PutIndex = { reference: string; digest: string; mediaType: string };

export interface RegistryTransfer {
  /** Each image with the reference it goes to (`registry/repo:tag`); `byDigest`: an index's image, put by digest. */
  images: { image: SourceImage; target: ImageReference; byDigest?: boolean }[];
  /** An index to put under the tag once its images are in by digest (a copy of every platform). */
  index?: ManifestBytes;
  /** Indexes to put under their targets' tags, byte for byte, once every image is in. */
  indexes?: (ManifestBytes & { target: ImageReference })[];
  /** A sequential source (a compressed tar): its layers are read in `offset` order. */
  sequential?: boolean;
}

export interface ToRegistryOptions {
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** Milliseconds between progress events while bytes flow (state changes are always reported). */
  progressIntervalMs?: number;
  /** Blobs moving at once (default 3); a sequential source moves one at a time, in its order. */
  parallelBlobs?: number;
}

/** Like dockerd (5 uploads), containers/image (6) and go-containerregistry (4), a few: enough to keep every core busy. */
const DEFAULT_PARALLEL_BLOBS = 3;

interface LayerJob {
  image: number;
  target: ImageReference;
  layer: SourceLayer;
  row: number;
  /** Same source blob, same repository as an earlier job: reuses its result. */
  sameAs?: LayerJob;
  result?: MovedLayer;
}

export async function toRegistry(
  transfer: RegistryTransfer,
  destination: RegistryDestination,
  options: ToRegistryOptions = {},
): Promise<TransferResult & { index?: PutIndex; indexes: PutIndex[] }> {
  const { signal } = options;
  const checkAbort = () => {
    if (signal?.aborted) throw abortError(signal);
  };
  const jobs: LayerJob[] = [];
  const rows: BlobProgress[] = [];
  const seen = new Map<string, LayerJob>();
  transfer.images.forEach(({ image, target }, i) => {
    for (const layer of image.layers) {
      const earlier = seen.get(`${target.registry}/${target.repository}|${layer.key}`);
      const job: LayerJob = { image: i, target, layer, row: rows.length, ...(earlier ? { sameAs: earlier } : {}) };
      if (!earlier) seen.set(`${target.registry}/${target.repository}|${layer.key}`, job);
      jobs.push(job);
      rows.push({
        image: i,
        digest: layer.digest ?? '',
        ...(layer.path ? { path: layer.path } : {}),
        mediaType: layer.mediaType,
        size: layer.size,
        bytes: 0,
        state: earlier ? 'shared' : 'waiting',
      });
    }
  });
  const progress = new ProgressReporter(rows, options.onProgress, options.progressIntervalMs ?? 100);
  const counts = { copied: 0, existing: 0, mounted: 0, bytes: 0 };
  /** Source blob → what moving it gave, whichever repository it went to. */
  const bySource = new Map<string, MovedLayer>();

  const moveLayer = async ({ target, layer, row }: LayerJob): Promise<MovedLayer> => {
    const known =
      bySource.get(layer.key) ??
      (layer.digest ? { digest: layer.digest, size: layer.size, compression: layer.compression } : undefined);
    if (known) {
      progress.state(row, 'checking');
      const reused = await destination.reuse(target, known.digest, mountSource(target, layer));
      if (reused) {
        counts[reused === 'exists' ? 'existing' : 'mounted']++;
        progress.state(row, reused);
        return record(target, layer, known);
      }
    }
    progress.state(row, 'uploading');
    const stored = await destination.upload(target, () => {
      progress.restart(row);
      return stopsOnFailure(
        layer.open((n) => {
          counts.bytes += n;
          progress.moved(row, n);
        }),
        failed,
      );
    });
    counts.copied++;
    progress.completed(row);
    return record(target, layer, { ...stored, compression: layer.compression });
  };
  const record = (target: ImageReference, layer: SourceLayer, moved: MovedLayer): MovedLayer => {
    destination.stored(target, moved.digest);
    bySource.set(layer.key, moved);
    return moved;
  };

  progress.emit(true);
  const failed: Failure = {};
  const order = jobs.filter((j) => !j.sameAs);
  if (transfer.sequential) order.sort((a, b) => (a.layer.offset ?? 0) - (b.layer.offset ?? 0));
  // Several blobs at once (a random-access source); the same source blob for another repository waits for
  // the first to be in, so that it is mounted rather than uploaded twice.
  const moving = new Map<string, Promise<unknown>>();
  await inParallel(
    order,
    transfer.sequential ? 1 : (options.parallelBlobs ?? DEFAULT_PARALLEL_BLOBS),
    failed,
    async (job) => {
      checkAbort();
      const earlier = moving.get(job.layer.key);
      const moved = (async () => {
        await earlier?.catch(() => {});
        checkAbort();
        return moveLayer(job);
      })();
      moving.set(job.layer.key, moved);
      job.result = await moved;
    },
  );
  for (const job of jobs) if (job.sameAs) job.result = job.sameAs.result;

  // Every config before any manifest: a manifest is only put once everything it names is in.
  for (const { image, target } of transfer.images) {
    checkAbort();
    const { config } = image;
    if (!(await destination.reuse(target, config.digest, mountSource(target, config)))) {
      counts.bytes += config.bytes.byteLength;
      await destination.upload(target, () => ({
        chunks: (async function* () {
          yield config.bytes;
        })(),
        done: async () => ({ digest: await sha256Of(config.bytes), size: config.bytes.byteLength }),
      }));
    }
    destination.stored(target, config.digest);
  }
  const whole = transfer.index;
  const images: TransferredImage[] = [];
  for (const [i, { image, target, byDigest }] of transfer.images.entries()) {
    checkAbort();
    const manifest = await manifestFor(
      image,
      jobs.filter((j) => j.image === i).map((j) => j.result!),
    );
    // The images of an index go in by digest before the index names them; a single image goes under the tag.
    const tag = target.tag ?? 'latest';
    const inIndex = byDigest || !!whole;
    await destination.putManifest(target, inIndex ? manifest.digest : tag, manifest);
    images.push({
      reference: inIndex
        ? `${target.registry}/${target.repository}@${manifest.digest}`
        : formatReference({ ...target, tag }),
      repoTags: [],
      configDigest: image.config.digest,
      manifestDigest: manifest.digest,
      mediaType: manifest.mediaType,
      platform: image.platform,
      pullCommand: `docker pull ${familiarName(target)}@${manifest.digest}`,
    });
  }
  const first = transfer.images[0]?.target;
  if (whole && !first) throw new SkiffError('bad-manifest', 'The index lists no images to copy');
  const indexes: PutIndex[] = [];
  for (const index of [...(whole && first ? [{ ...whole, target: first }] : []), ...(transfer.indexes ?? [])]) {
    checkAbort();
    const tag = index.target.tag ?? 'latest';
    await destination.putManifest(index.target, tag, index);
    indexes.push({
      reference: formatReference({ ...index.target, tag }),
      digest: index.digest,
      mediaType: index.mediaType,
    });
  }
  progress.emit(true);
  return { images, ...counts, notes: [], indexes, ...(whole ? { index: indexes[0]! } : {}) };
}

/** The first failure among blobs moving at once: the others stop at their next chunk. */
type Failure = { error?: unknown };

/**
 * Runs `work` on every item, at most `limit` at once, starting them in order. After a failure (kept in
 * `failed`) no more start; those running stop (see `stopsOnFailure`) and are waited for; the first is thrown.
 */
async function inParallel<T>(
  items: T[],
  limit: number,
  failed: Failure,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
        failed.error ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}

/** A blob's bytes that end with the first failure of another blob: no upload runs on for nothing. */
function stopsOnFailure(stream: BlobStream, failed: Failure): BlobStream {
  return {
    chunks: (async function* () {
      for await (const chunk of stream.chunks) {
        if (failed.error !== undefined) throw failed.error;
        yield chunk;
      }
    })(),
    done: () => stream.done(),
  };
}

/** The source's own repository when it is on the target's registry: a copy there is a mount. */
function mountSource(target: ImageReference, blob: { from?: ImageReference }): string | undefined {
  return blob.from?.registry === target.registry ? blob.from.repository : undefined;
}
