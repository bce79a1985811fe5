/**
 * The pull's progress as the caller sees it: per layer bytes received (counted where they arrive from the
 * network, so a look-ahead or a parallel fetch counts each byte once) and state; events throttled while
 * bytes flow, sent at once on every state change.
 */
import type { RateLimit } from '../registry/transport/rate-limit.ts';
import { type PlannedLayer, initialProgress } from './plan.ts';
import type { LayerState, PullProgress } from './types.ts';

export class ProgressTracker {
  private readonly progress: PullProgress;
  private lastEmit = 0;

  constructor(
    plan: PlannedLayer[],
    private readonly written: () => number,
    private readonly onProgress: ((progress: PullProgress) => void) | undefined,
    private readonly intervalMs = 100,
  ) {
    this.progress = initialProgress(plan);
  }

  received(layer: number, bytes: number): void {
    const row = this.progress.layers[layer]!;
    row.received += bytes;
    this.progress.received += bytes;
    if (row.state === 'waiting') this.state(layer, 'downloading');
    else this.emit(false);
  }

  /** A layer's download stalled or broke off and is being picked up again (`undefined`: bytes flow again). */
  stalled(layer: number, reason: string | undefined): void {
    const row = this.progress.layers[layer]!;
    if (reason === undefined) delete row.stalled;
    else row.stalled = reason;
    this.emit(true);
  }

  state(layer: number, state: LayerState): void {
    this.progress.layers[layer]!.state = state;
    this.emit(true);
  }

  set rateLimit(value: RateLimit | undefined) {
    if (value) this.progress.rateLimit = value;
    else delete this.progress.rateLimit;
  }

  emit(force: boolean): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    this.progress.written = this.written();
    this.onProgress({ ...this.progress, layers: this.progress.layers.map((l) => ({ ...l })) });
  }
}
