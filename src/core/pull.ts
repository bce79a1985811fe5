/** The pull engine's entry: `pull()` and its shapes. The parts live in ./transfer/ (plan → scheduler → stages). */
import { type KitTar, writeZipKit } from './archive/zip-kit.ts';
import type { Sha256Factory } from './codecs/sha256.ts';
import type { ResolvedImage } from './registry/resolve.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { pull } from './transfer/run.ts';
import type { LayerMode, PullProgress, PullResult } from './transfer/types.ts';

export { pull, DEFAULT_PARALLEL } from './transfer/run.ts';
export { planPull, initialProgress, type LayerAction, type PlannedLayer } from './transfer/plan.ts';
export type {
  LayerMode,
  LayerProgress,
  LayerState,
  PulledImage,
  PullOptions,
  PullProgress,
  PullResult,
  TransferStats,
} from './transfer/types.ts';
export type { RateLimit } from './registry/transport/rate-limit.ts';
export type { KitTar } from './archive/zip-kit.ts';

export interface KitItem {
  image: ResolvedImage;
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
  onProgress: (item: number, progress: PullProgress) => void;
  /** Started before each image's pull. */
  onItem?: (item: number) => void;
  /** Hashers for each tar and for the inflated layers (a worker's, ideally). */
  sha256: Sha256Factory;
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
      write: async (sink) => {
        const result = await pull([item.image], sink, {
          ...transport,
          layers,
          signal,
          progressIntervalMs: 200,
          layerSha256: sha256,
          ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
          ...(parallel ? { parallel } : {}),
          onProgress: (p) => onProgress(index, p),
        });
        results.push(result);
        return result.images.map(
          (image) =>
            `${image.repoTags.join(', ') || image.reference} (${image.platform}), image ID ${image.configDigest}`,
        );
      },
    })),
    target,
    { signal, sha256, ...(onItem ? { onEntry: onItem } : {}) },
  );
  return { results, tars };
}
