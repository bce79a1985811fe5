/**
 * Pull: images from registries into one archive (`docker load` reads it) — or the .zip kit, one tar per
 * image. The registry is the source, the archive being written the destination; the work is
 * transfer/to-archive.ts (plan → scheduler → stages). Also the transfer's shapes, for every verb.
 */
import { type ArchiveDestination, dockerArchive } from './archive/writer.ts';
import { type KitImage, type KitTar, writeZipKit, zipKitOverhead } from './archive/zip-kit.ts';
import { archiveEntryFor } from './archive/image-entry.ts';
import { type ArchiveSize, archiveSize } from './archive/size.ts';
import { formatPlatform } from './image/platform.ts';
import type { NativeGunzip } from './codecs/native-gunzip.ts';
import type { Sha256Factory } from './codecs/sha256.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { SkiffError, abortError } from './errors.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from './image/reference.ts';
import { type PlatformSelection, formatImageList, mergePlatforms } from './image/image-list.ts';
import { RegistryClients } from './registry/pool.ts';
import type { ResolvedImage } from './registry/resolve.ts';
import { type PullInput, type ResolvedSet, isResolvedSet } from './registry/resolve-set.ts';
import { resolveList, setsOrFirstFailure } from './registry/resolve-list.ts';
import { ArchiveTransfer, DEFAULT_PARALLEL } from './transfer/to-archive.ts';
import type { LayerMode, PullOptions, PullResult, TransferProgress, TransferredImage } from './transfer/types.ts';

export { DEFAULT_PARALLEL } from './transfer/to-archive.ts';
export { planPull, initialProgress, type LayerAction, type PlannedLayer } from './transfer/plan.ts';
export type {
  BlobProgress,
  BlobState,
  LayerMode,
  PullOptions,
  PullResult,
  TransferProgress,
  TransferredImage,
  TransferResult,
  TransferStats,
} from './transfer/types.ts';
export type { RateLimit } from './registry/transport/rate-limit.ts';
export type { PullInput, ResolvedSet } from './registry/resolve-set.ts';
export { resolveSet } from './registry/resolve-set.ts';
export { LAYER_MODES } from './transfer/types.ts';
export type { KitTar } from './archive/zip-kit.ts';

const DEFAULT_WRITE_CHUNK = 2 ** 20;
/** Written bytes go out at least this often, so the first bytes reach the file at once. */
const WRITE_HOLD_MS = 500;

export type PullInputs = (string | ImageReference | PullInput | ResolvedImage | ResolvedSet)[];

/**
 * Resolves every reference (each with its platforms: `PullInput`, or `options.platforms`), then writes one
 * archive holding all of them: a docker-archive tar into `into` when it is a stream, or into any other
 * `ArchiveDestination` (archive/writer.ts) given instead.
 */
export async function pull(
  inputs: PullInputs,
  into: WritableStream<Uint8Array> | ArchiveDestination,
  options: PullOptions = {},
): Promise<PullResult> {
  const destination =
    'getWriter' in into
      ? dockerArchive(into, {
          writeChunkBytes: options.writeChunkBytes ?? DEFAULT_WRITE_CHUNK,
          holdMs: WRITE_HOLD_MS,
          ...(options.writeBuffer ? { writeBuffer: options.writeBuffer } : {}),
        })
      : into;
  try {
    if (inputs.length === 0) throw new SkiffError('invalid-argument', 'Name at least one image to pull');
    const parallel = options.parallel ?? DEFAULT_PARALLEL;
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
      throw new SkiffError('invalid-argument', `parallel must be a whole number from 1 to 64, not ${parallel}`);
    // One client per registry: its tokens (one per scope) and what it showed about Range serve every image.
    const clients = new RegistryClients(options);
    const wanted = mergeInputs(inputs, options.platforms);
    const toResolve = wanted.filter((w) => !isResolvedSet(w));
    const resolved = setsOrFirstFailure(await resolveList(toResolve, { ...options, clients }));
    const sets = wanted.map((w) => (isResolvedSet(w) ? w : resolved[toResolve.indexOf(w)]!));
    return await new ArchiveTransfer(sets, clients, destination, { ...options, parallel }).run();
  } catch (error) {
    const failure = options.signal?.aborted ? abortError(options.signal) : error;
    await destination.abort(failure);
    throw failure;
  }
}

function isResolved(input: unknown): input is ResolvedImage {
  return typeof input === 'object' && input !== null && 'manifest' in input && 'config' in input;
}

type Wanted = ResolvedSet | { reference: ImageReference; selection: PlatformSelection };

/** The same name asked for twice is one image whose platforms are the union (resolved once). */
function mergeInputs(inputs: PullInputs, fallback: PlatformSelection = []): Wanted[] {
  const out: Wanted[] = [];
  const byName = new Map<string, { reference: ImageReference; selection: PlatformSelection }>();
  for (const input of inputs) {
    if (isResolvedSet(input)) out.push(input);
    else if (isResolved(input))
      out.push({ reference: input.reference, selection: [input.platform], images: [input], artifacts: [] });
    else {
      const named = typeof input === 'object' && 'reference' in input ? input : { reference: input };
      const reference = typeof named.reference === 'string' ? parseReference(named.reference) : named.reference;
      const asked = 'platforms' in named && named.platforms?.length !== 0 ? named.platforms! : fallback;
      const key = formatReference(reference);
      const earlier = byName.get(key);
      if (earlier) earlier.selection = mergePlatforms(earlier.selection, asked);
      else {
        const entry = { reference, selection: asked };
        byName.set(key, entry);
        out.push(entry);
      }
    }
  }
  return out;
}

export interface KitItem {
  image: ResolvedImage | ResolvedSet;
  /** File name inside the zip (`app_v1.tar`): letters, digits, `.`, `_`, `-` only. */
  tarName: string;
}

export interface KitResult {
  results: PullResult[];
  tars: KitTar[];
}

export interface KitOptions extends TransportOptions {
  layers: LayerMode;
  signal: AbortSignal;
  onProgress: (item: number, progress: TransferProgress) => void;
  /** Started before each image's pull. */
  onItem?: (item: number) => void;
  /** Hashers for each tar and for the inflated layers (a worker's, ideally). */
  sha256: Sha256Factory;
  /** The host's own gunzip (PullOptions.gunzip). */
  gunzip?: NativeGunzip;
  /** A layer download that sends nothing for this long is cut and resumed (the engine's default if unset). */
  idleTimeoutMs?: number;
  /** Blob requests at once (the engine's default if unset). */
  parallel?: number;
}

/** The offline kit (archive/zip-kit.ts): each image pulled into a tar of its own inside one .zip. */
export async function pullKit(
  items: KitItem[],
  target: WritableStream<Uint8Array>,
  options: KitOptions,
): Promise<KitResult> {
  const { layers, signal, onProgress, onItem, sha256, idleTimeoutMs, parallel, ...transport } = options;
  const results: PullResult[] = [];
  const tars = await writeZipKit(
    items.map((item, index) => ({
      name: item.tarName,
      images: [kitImage(item.image)],
      write: async (sink) => {
        const result = await pull([item.image], sink, {
          ...transport,
          layers,
          signal,
          progressIntervalMs: 200,
          sha256,
          ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
          ...(parallel ? { parallel } : {}),
          onProgress: (p) => onProgress(index, p),
        });
        results.push(result);
        return result.images.map(kitLine);
      },
    })),
    target,
    { signal, sha256, ...(onItem ? { onEntry: onItem } : {}) },
  );
  return { results, tars };
}

/**
 * The kit's size before it is made: each image's tar (archive/size.ts) plus what the zip adds around the
 * tars (zipKitOverhead), with README.txt's lines as the pull will write them.
 */
export async function kitSize(
  items: KitItem[],
  layers: LayerMode,
  inflatedSizes: Record<string, number> = {},
): Promise<ArchiveSize> {
  const imagesOf = (item: KitItem) => (isResolvedSet(item.image) ? item.image.images : [item.image]);
  const sizes = await Promise.all(items.map((item) => archiveSize(imagesOf(item), layers, inflatedSizes)));
  const overhead = await zipKitOverhead(
    items.map((item) => ({
      name: item.tarName,
      images: [kitImage(item.image)],
      lines: imagesOf(item).map((image) =>
        kitLine({
          repoTags: archiveEntryFor(image, { mediaType: '', digest: '', size: 0, layerDigests: [] }).entry.repoTags,
          reference: formatReference(image.reference),
          platform: formatPlatform(image.platform),
          configDigest: image.config.digest,
        }),
      ),
    })),
  );
  return { bytes: overhead + sizes.reduce((sum, s) => sum + s.bytes, 0), exact: sizes.every((s) => s.exact) };
}

/** An image's line in the kit's README.txt. */
function kitLine(image: Pick<TransferredImage, 'repoTags' | 'reference' | 'platform' | 'configDigest'>): string {
  return `${image.repoTags.join(', ') || image.reference} (${image.platform}), image ID ${image.configDigest}`;
}

/** The kit's list line and push path for an image (zip-kit.ts writes them into images.txt and the scripts). */
function kitImage(image: ResolvedImage | ResolvedSet): KitImage {
  const { reference } = image;
  const platforms =
    !isResolvedSet(image) || (image.selection !== 'all' && image.selection.length === 0)
      ? (isResolvedSet(image) ? image.images : [image]).map((i) => i.platform)
      : image.selection;
  const line = formatImageList([{ text: formatReference(reference), reference, platforms }]).trim();
  if (reference.tag === undefined) return { line };
  return {
    line,
    push: { tag: `${familiarName(reference)}:${reference.tag}`, path: `${reference.repository}:${reference.tag}` },
  };
}
