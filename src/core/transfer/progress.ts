/**
 * A transfer's progress as the caller sees it (one shape for pull, push and copy): per blob bytes moved
 * (counted where they arrive, so a look-ahead or a parallel fetch counts each byte once) and state; events
 * throttled while bytes flow, sent at once on every state change.
 */
import type { RateLimit } from '../registry/transport/rate-limit.ts';
import type { BlobProgress, BlobState, TransferProgress } from './types.ts';

/** Rows whose blob needs no move count as moved in full; shared ones (moved once elsewhere) not at all. */
function movedBytes(rows: BlobProgress[]): number {
  return rows.reduce(
    (sum, row) =>
      sum + (row.state === 'shared' ? 0 : row.state === 'exists' || row.state === 'mounted' ? row.size : row.bytes),
    0,
  );
}

export function startingProgress(blobs: BlobProgress[]): TransferProgress {
  const totalBytes = blobs.filter((b) => b.state !== 'shared').reduce((s, b) => s + b.size, 0);
  return { blobs, bytes: 0, totalBytes };
}

export class ProgressReporter {
  private readonly progress: TransferProgress;
  private lastEmit = 0;

  constructor(
    blobs: BlobProgress[],
    private readonly onProgress: ((progress: TransferProgress) => void) | undefined,
    private readonly intervalMs = 100,
    /** Bytes written to the destination file, for archive destinations. */
    private readonly written?: () => number,
  ) {
    this.progress = startingProgress(blobs);
  }

  /** `n` more bytes of blob `index` moved. */
  moved(index: number, n: number): void {
    const row = this.progress.blobs[index]!;
    row.bytes += n;
    if (row.state === 'waiting') this.state(index, 'downloading');
    else this.emit(false);
  }

  /** The blob's move starts over (an upload begun again from the source). */
  restart(index: number): void {
    this.progress.blobs[index]!.bytes = 0;
  }

  /** The blob is moved whole and checked. */
  completed(index: number): void {
    const row = this.progress.blobs[index]!;
    row.bytes = row.size;
    this.state(index, 'done');
  }

  /** A blob's transfer stalled or broke off and is being picked up again (`undefined`: bytes flow again). */
  stalled(index: number, reason: string | undefined): void {
    const row = this.progress.blobs[index]!;
    if (reason === undefined) delete row.stalled;
    else row.stalled = reason;
    this.emit(true);
  }

  state(index: number, state: BlobState): void {
    this.progress.blobs[index]!.state = state;
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
    this.progress.bytes = movedBytes(this.progress.blobs);
    if (this.written) this.progress.written = this.written();
    this.onProgress({ ...this.progress, blobs: this.progress.blobs.map((b) => ({ ...b })) });
  }
}
