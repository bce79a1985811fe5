/**
 * The download's figures as the table shows them, from the engine's progress events: one model of speed
 * and time left for the rows and the total, so they cannot disagree.
 *
 * - One rate estimator (WindowRate) for every row and the total: bytes that moved in the last few seconds
 *   over that time. A rate is never 0 while bytes moved in the window; with nothing moving there is none.
 * - The total's time left is what remains over the total rate; a row's is its own remaining over its own
 *   rate, but never more than the total's (the total cannot end before any of its rows).
 * - No time left until bytes have flowed for ETA_AFTER_MS: the first readings are far off.
 * - A layer whose bytes are all in but that the engine still unpacks, checks or writes reads as "writing",
 *   not as downloading with nothing left.
 */
import {
  type BlobProgress,
  type LayerMode,
  type TransferProgress,
  initialProgress,
  planPull,
} from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';

export type RowState = BlobProgress['state'] | 'writing';

/** A layer's progress as the table shows it; `image` is an index into the download's image list. */
export interface LayerRow extends Omit<BlobProgress, 'state' | 'bytes'> {
  /** Bytes of the layer received so far. */
  received: number;
  key: string;
  item: number;
  state: RowState;
  speed?: number;
  eta?: number;
}

export interface ProgressView {
  rows: LayerRow[];
  received: number;
  expected: number;
  speed?: number;
  eta?: number;
}

/** Bytes flowing for this long before a time left is said: the first readings are far off (start-up, slow start). */
export const ETA_AFTER_MS = 3000;
/** The window speeds are measured over. */
export const RATE_WINDOW_MS = 5000;

/**
 * Speed over the last RATE_WINDOW_MS: the bytes counted at the newest sample less those at the window's
 * start (the last sample at or before it, else the first byte), over the time between. Measured from the
 * first byte on, not from the click (resolving, the worker's start and sign-in would read as a slow line).
 */
export class WindowRate {
  private samples: { t: number; bytes: number }[] = [];
  /** When bytes were first seen. */
  since: number | undefined;

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** `bytes`: the count so far (it only grows). */
  add(bytes: number, now: number): void {
    if (bytes <= 0) return;
    if (this.since === undefined) {
      this.since = now;
      // Bytes arrived since the last reading with none: they moved between then and now.
      this.samples.push({ t: now, bytes });
      return;
    }
    const last = this.samples.at(-1)!;
    if (bytes === last.bytes && now === last.t) return;
    this.samples.push({ t: now, bytes });
    // Keep one sample at or before the window's start, to measure from.
    while (this.samples.length > 2 && this.samples[1]!.t <= now - this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window; undefined before 250 ms of samples, or when nothing moved in it. */
  rate(now: number): number | undefined {
    const last = this.samples.at(-1);
    if (!last) return undefined;
    const start = now - this.windowMs;
    const base = [...this.samples].reverse().find((s) => s.t <= start) ?? this.samples[0]!;
    const moved = last.bytes - base.bytes;
    const span = Math.max(now, last.t) - base.t;
    if (span < 250 || moved <= 0) return undefined;
    return (moved * 1000) / span;
  }

  /** Seconds to move `remaining` bytes at today's rate; none before bytes have flowed ETA_AFTER_MS. */
  eta(remaining: number, now: number): number | undefined {
    if (this.since === undefined || now - this.since < ETA_AFTER_MS) return undefined;
    const rate = this.rate(now);
    if (rate === undefined || remaining <= 0) return undefined;
    return remaining / rate;
  }
}

/** Turns the engine's progress events into table rows with speeds and times left, for one archive or a kit. */
export class ProgressTracker {
  private readonly snapshots: TransferProgress[];
  private readonly meters = new Map<string, WindowRate>();
  private readonly total = new WindowRate();

  constructor(
    private readonly kind: 'tar' | 'zip',
    images: (ResolvedImage | ResolvedImage[])[],
    mode: LayerMode,
  ) {
    // Before the engine reports, rows come from the engine's own plan: one tar holds every image (shared
    // layers once); a kit holds one tar per image (with each of its platforms, when it has several).
    const plan = (list: ResolvedImage[]): TransferProgress => initialProgress(planPull(list, mode));
    const groups = images.map((group) => (Array.isArray(group) ? group : [group]));
    this.snapshots = kind === 'zip' ? groups.map(plan) : [plan(groups.flat())];
  }

  update(index: number, progress: TransferProgress): void {
    this.snapshots[index] = progress;
  }

  view(now = performance.now()): ProgressView {
    const received = this.snapshots.reduce((s, p) => s + p.bytes, 0);
    const expected = this.snapshots.reduce((s, p) => s + p.totalBytes, 0);
    this.total.add(received, now);
    const totalEta = this.total.eta(Math.max(0, expected - received), now);
    const rows: LayerRow[] = [];
    this.snapshots.forEach((snapshot, item) => {
      snapshot.blobs.forEach((layer, i) => {
        const key = `${item}/${i}`;
        const allIn = layer.bytes >= layer.size;
        const state: RowState = layer.state === 'downloading' && allIn ? 'writing' : layer.state;
        let speed: number | undefined;
        let eta: number | undefined;
        if (layer.state === 'downloading') {
          let meter = this.meters.get(key);
          if (!meter) this.meters.set(key, (meter = new WindowRate()));
          meter.add(layer.bytes, now);
          if (!allIn) {
            speed = meter.rate(now);
            const own = meter.eta(layer.size - layer.bytes, now);
            eta = own === undefined || totalEta === undefined ? undefined : Math.min(own, totalEta);
          }
        }
        rows.push({
          key,
          item,
          image: this.kind === 'zip' ? item : layer.image,
          digest: layer.digest,
          mediaType: layer.mediaType,
          size: layer.size,
          received: Math.min(layer.bytes, layer.size),
          state,
          ...(layer.stalled ? { stalled: layer.stalled } : {}),
          ...(speed !== undefined ? { speed } : {}),
          ...(eta !== undefined ? { eta } : {}),
        });
      });
    });
    const speed = this.total.rate(now);
    return {
      rows,
      received: Math.min(received, expected),
      expected,
      ...(speed !== undefined ? { speed } : {}),
      ...(totalEta !== undefined ? { eta: totalEta } : {}),
    };
  }
}

/** The written figure is shown once the file holds more than its opening entries (a few hundred bytes). */
export const WRITTEN_AFTER_BYTES = 64 * 1024;
