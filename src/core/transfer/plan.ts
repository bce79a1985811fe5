/**
 * What a pull will do with each layer, decided before any byte moves — pure, so the page can show it too.
 * Like containers/image deciding compression before it streams: the copy then only runs the stages an
 * action needs. Only the look-ahead (lookahead.ts) may still change an action, once it has seen the bytes.
 */
import { sizePlanWithoutTrailer } from '../image/layer-size.ts';
import { type LayerCompression, isForeignLayer, layerCompression } from '../image/media-types.ts';
import type { Descriptor } from '../image/manifest.ts';
import type { ResolvedImage } from '../registry/resolve.ts';
import { startingProgress } from './progress.ts';
import type { BlobProgress, LayerMode, TransferProgress } from './types.ts';

export type LayerAction =
  /** Written as served; `verifyDiffId` says whether it is still inflated to check its diff_id. */
  | { kind: 'as-served'; verifyDiffId: boolean; reason: string }
  /** Inflated and named by diff_id; `size` is known ahead, or undefined when the gzip trailer tells it. */
  | { kind: 'inflate'; size: number | undefined; sizeFrom: 'annotation' | 'gzip-trailer' }
  /**
   * A zstd layer: its size comes from the frame headers when every frame states one (read without
   * inflating, see lookahead.ts), else it is inflated once to count it, then again to write it. A blob of
   * up to ZSTD_HOLD_BYTES is held whole for that and fetched once (`fetchedOnce`); a bigger one is fetched
   * twice, as holding it would break the memory budget.
   */
  | { kind: 'measure-then-inflate'; reason: string; fetchedOnce: boolean }
  /** Kept compressed as served because its inflated size cannot be known ahead (docker load reads it). */
  | { kind: 'keep-compressed'; reason: string };

export interface PlannedLayer {
  /** Which image of the pull, and which layer of it. */
  image: number;
  layer: number;
  descriptor: Descriptor;
  diffId: string;
  compression: LayerCompression;
  /** Non-distributable layers are fetched from their URLs, not from the registry. */
  foreign: boolean;
  action: LayerAction;
  /** Index (in the plan) of the earlier layer this one is stored as: the same blob, or the same diff_id
   *  when layers are written inflated. Nothing is fetched for it. */
  sharedWith?: number;
}

export interface PlanOptions {
  /** as-pulled only: false skips inflating to check diff_ids. Default true. */
  verifyDiffIds?: boolean;
  /** Layers kept as served are inflated to check their diff_ids in every mode. */
  checkDiffIds?: boolean;
}

/** zstd blobs up to this size are held whole while their frame headers are read, so they are fetched once. */
export const ZSTD_HOLD_BYTES = 8 * 2 ** 20;

type PlanImage = Pick<ResolvedImage, 'layers'>;

/** One action per layer of every image, in archive order. */
export function planPull(images: PlanImage[], mode: LayerMode, options: PlanOptions = {}): PlannedLayer[] {
  const plan: PlannedLayer[] = [];
  const stored = new Map<string, number>();
  images.forEach((image, imageIndex) => {
    image.layers.forEach(({ descriptor, diffId }, layerIndex) => {
      const compression = layerCompression(descriptor.mediaType);
      if (!compression) throw new Error(`not a layer type: ${descriptor.mediaType}`);
      const sharedWith = stored.get(descriptor.digest) ?? (mode === 'uncompressed' ? stored.get(diffId) : undefined);
      const index = plan.length;
      plan.push({
        image: imageIndex,
        layer: layerIndex,
        descriptor,
        diffId,
        compression,
        foreign: isForeignLayer(descriptor.mediaType) && (descriptor.urls?.length ?? 0) > 0,
        action: sharedWith !== undefined ? plan[sharedWith]!.action : actionFor(descriptor, compression, mode, options),
        ...(sharedWith !== undefined ? { sharedWith } : {}),
      });
      if (sharedWith === undefined) {
        stored.set(descriptor.digest, index);
        if (!stored.has(diffId)) stored.set(diffId, index);
      }
    });
  });
  return plan;
}

function actionFor(
  descriptor: Descriptor,
  compression: LayerCompression,
  mode: LayerMode,
  options: PlanOptions,
): LayerAction {
  if (mode === 'as-pulled')
    return {
      kind: 'as-served',
      verifyDiffId: options.checkDiffIds === true || options.verifyDiffIds !== false,
      reason: 'as-pulled mode',
    };
  if (compression === 'none') return { kind: 'as-served', verifyDiffId: true, reason: 'the blob is uncompressed' };
  // Every docker load reads gzip; the diff_id check is docker load's own unless asked for here.
  if (mode === 'kept' && compression === 'gzip')
    return { kind: 'as-served', verifyDiffId: options.checkDiffIds === true, reason: 'docker load reads gzip' };
  const known = sizePlanWithoutTrailer(descriptor, compression);
  if (!known) return { kind: 'inflate', size: undefined, sizeFrom: 'gzip-trailer' };
  if (known.kind === 'exact') return { kind: 'inflate', size: known.size, sizeFrom: 'annotation' };
  if (known.kind === 'measure')
    return {
      kind: 'measure-then-inflate',
      reason: `${compression} layers state their inflated size only in their frame headers, if at all`,
      fetchedOnce: descriptor.size <= ZSTD_HOLD_BYTES,
    };
  return { kind: 'keep-compressed', reason: known.reason };
}

/** How many times each layer's blob is fetched: none when shared, twice when too big to hold for measuring. */
export function blobReads(layer: PlannedLayer): number {
  if (layer.sharedWith !== undefined) return 0;
  return layer.action.kind === 'measure-then-inflate' && !layer.action.fetchedOnce ? 2 : 1;
}

/** The rows a pull starts from: every layer waiting, shared ones marked, bytes to fetch counted once. */
export function pullRows(plan: PlannedLayer[]): BlobProgress[] {
  return plan.map((l) => ({
    image: l.image,
    digest: l.descriptor.digest,
    mediaType: l.descriptor.mediaType,
    size: l.descriptor.size,
    bytes: 0,
    state: l.sharedWith !== undefined ? 'shared' : 'waiting',
  }));
}

/** The progress a pull starts from (the page shows it before the engine reports). */
export function initialProgress(plan: PlannedLayer[]): TransferProgress {
  return { ...startingProgress(pullRows(plan)), written: 0 };
}
