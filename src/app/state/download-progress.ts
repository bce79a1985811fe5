/** A download's progress as the page shows it: the engine's events turned into table rows with speeds and times left. */
import {
  type BlobProgress,
  type LayerMode,
  type TransferProgress,
  initialProgress,
  planPull,
} from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import type { ArchiveKind, Running } from './download.svelte.ts';

/** A layer's progress as the table shows it; `image` is an index into the download's image list. */
export interface LayerRow extends Omit<BlobProgress, 'bytes'> {
  /** Bytes of the layer received so far. */
  received: number;
  key: string;
  item: number;
  speed?: number;
  eta?: number;
}

/** Turns the engine's progress events into table rows with speeds and ETAs, for one archive or a kit. */
export class ProgressTracker {
  private readonly snapshots: TransferProgress[];
  private readonly meters = new Map<string, SaneRate>();
  private readonly total = new SaneRate();

  constructor(
    private readonly kind: ArchiveKind,
    images: ResolvedImage[],
    mode: LayerMode,
  ) {
    // Before the engine reports, rows come from the engine's own plan: one tar holds every image (shared
    // layers once); a kit holds one tar per image.
    const plan = (list: ResolvedImage[]): TransferProgress => initialProgress(planPull(list, mode));
    this.snapshots = kind === 'zip' ? images.map((image) => plan([image])) : [plan(images)];
  }

  update(index: number, progress: TransferProgress): void {
    this.snapshots[index] = progress;
  }

  view(now = performance.now()): Pick<Running, 'rows' | 'received' | 'expected' | 'speed' | 'eta'> {
    const rows: LayerRow[] = [];
    this.snapshots.forEach((snapshot, item) => {
      snapshot.blobs.forEach((layer, i) => {
        const key = `${item}/${i}`;
        let speed: number | undefined;
        if (layer.state === 'downloading') {
          let meter = this.meters.get(key);
          if (!meter) this.meters.set(key, (meter = new SaneRate()));
          meter.add(layer.bytes, now);
          speed = meter.rate();
        }
        const eta = speed !== undefined ? this.meters.get(key)!.eta(layer.size - layer.bytes, now) : undefined;
        rows.push({
          key,
          item,
          image: this.kind === 'zip' ? item : layer.image,
          digest: layer.digest,
          mediaType: layer.mediaType,
          size: layer.size,
          received: Math.min(layer.bytes, layer.size),
          state: layer.state,
          ...(layer.stalled ? { stalled: layer.stalled } : {}),
          ...(speed !== undefined ? { speed } : {}),
          ...(eta !== undefined ? { eta } : {}),
        });
      });
    });
    const received = this.snapshots.reduce((s, p) => s + p.bytes, 0);
    const expected = this.snapshots.reduce((s, p) => s + p.totalBytes, 0);
    this.total.add(received, now);
    const speed = this.total.rate();
    return {
      rows,
      received: Math.min(received, expected),
      expected,
      speed,
      eta: this.total.eta(Math.max(0, expected - received), now),
    };
  }
}

/** Bytes flowing for this long before a time left is said: the first readings are far off (start-up, slow start). */
export const ETA_AFTER_MS = 3000;

/**
 * A rate measured from the first byte on (not from the click: resolving, the worker's start and sign-in
 * would read as a slow line), and a time left only once bytes have flowed for ETA_AFTER_MS.
 */
class SaneRate {
  private readonly meter = new RateMeter();
  private since: number | undefined;

  add(bytes: number, now: number): void {
    if (bytes <= 0) return;
    this.since ??= now;
    this.meter.add(bytes, now);
  }

  rate(): number | undefined {
    return this.meter.rate();
  }

  eta(remaining: number, now: number): number | undefined {
    if (this.since === undefined || now - this.since < ETA_AFTER_MS) return undefined;
    return etaSeconds(remaining, this.meter.rate());
  }
}
