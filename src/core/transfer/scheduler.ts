/**
 * Runs a pull's blob fetches in parallel while the archive is written in order. Every blob read the plan
 * needs is known up front, in the order the writer will consume them; the scheduler fetches ahead in that
 * order, up to `parallel` requests at once, a big blob as several Range segments. Bytes that arrive before
 * the writer wants them wait in memory, and a fetch starts only when its whole segment fits the memory
 * budget: beyond it fetching pauses, so memory stays flat whatever the image size. The writer reads each
 * blob as one in-order stream (and verifies it in order). Where Range is refused or answered wrong, that
 * blob falls back to one resumable stream read as the writer goes.
 */
import { abortError } from '../errors.ts';
import { PiecePool } from '../registry/transport/body-pieces.ts';
import { resumableBody } from '../registry/transport/resume.ts';
import { waitPolicy } from '../registry/transport/waits.ts';
import { BlobStalls } from '../registry/transport/watched-body.ts';
import { RangeRefused, fetchSegment } from './blob-fetch.ts';
import { type Layout, type ScheduledRead, type SchedulerOptions, type Segment, segment } from './segments.ts';

export { RangeSupport, type ScheduledRead } from './segments.ts';

export class FetchScheduler {
  private readonly layouts: (Layout | undefined)[] = [];
  private readonly stalls = new Map<ScheduledRead, BlobStalls>();
  private readonly controller = new AbortController();
  private readonly parallel: number;
  private readonly budget: number;
  private readonly segmentBytes: number;
  /** What segments are read into, and filled again once the writer gives their bytes back (`reuse`). */
  private readonly pieces: PiecePool;
  /** The prefetch cursor: the next segment to start. */
  private cursorRead = 0;
  private cursorSegment = 0;
  private active = 0;
  private reserved = 0;
  private buffered = 0;
  private wakeWriter: (() => void) | undefined;
  peakBufferedBytes = 0;
  requests = 0;
  fallbacks = 0;

  constructor(
    private readonly reads: ScheduledRead[],
    private readonly options: SchedulerOptions,
  ) {
    this.parallel = Math.max(1, Math.floor(options.parallel));
    this.budget = Math.max(1, options.memoryBudgetBytes);
    this.segmentBytes = Math.max(1, Math.min(options.segmentBytes, this.budget));
    this.pieces = new PiecePool(this.budget);
    const outer = options.signal;
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', () => this.close(outer.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Requests in flight now (segments, whole blobs and the writer's own streams). */
  get inFlight(): number {
    return this.active;
  }

  /** Starts fetching ahead. */
  start(): void {
    this.pump();
  }

  /** Ends every request in flight; reads still running fail with the abort. */
  close(reason?: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.wakeWriter?.();
  }

  /** The bytes of read `index`, in order. Reads must be taken in order, each to its end. */
  async *stream(index: number): AsyncGenerator<Uint8Array> {
    const read = this.reads[index]!;
    const layout = this.layout(index);
    let offset = 0;
    if (!layout.direct) {
      this.pump();
      for (const segment of layout.segments) {
        for (;;) {
          if (this.signal.aborted) throw abortError(this.signal);
          if (layout.fellBack) {
            yield* this.direct(read, offset, this.pieces);
            return;
          }
          const chunk = segment.chunks.shift();
          if (chunk) {
            this.take(segment, chunk.byteLength);
            offset += chunk.byteLength;
            yield chunk;
            continue;
          }
          if (segment.state === 'done') break;
          if (segment.state === 'failed') throw segment.error;
          await new Promise<void>((resolve) => {
            segment.wake = resolve;
            this.wakeWriter = resolve;
          });
          segment.wake = undefined;
          this.wakeWriter = undefined;
        }
        this.release(segment);
      }
      return;
    }
    yield* this.direct(read, offset, this.pieces);
  }

  /** The writer is done with `chunk` (one `stream` yielded) and will not read it again: its memory is reused. */
  reuse(chunk: Uint8Array): void {
    this.pieces.giveBack(chunk);
  }

  /** Read `index` fetched once more from its start, as one stream now and not ahead (a rare second look). */
  again(index: number): AsyncGenerator<Uint8Array> {
    return this.direct(this.reads[index]!, 0);
  }

  private layout(index: number): Layout {
    const known = this.layouts[index];
    if (known) return known;
    const read = this.reads[index]!;
    let layout: Layout;
    if (read.size <= this.segmentBytes) {
      layout = { direct: false, segments: [segment(0, read.size, true)] };
    } else if (read.range && !read.range.refused) {
      const segments: Segment[] = [];
      for (let start = 0; start < read.size; start += this.segmentBytes)
        segments.push(segment(start, Math.min(read.size, start + this.segmentBytes), false));
      layout = { direct: false, segments };
    } else {
      layout = { direct: true, segments: [] };
    }
    this.layouts[index] = layout;
    return layout;
  }

  /** Starts what fits: in order, within the connection count and the memory budget. */
  private pump(): void {
    while (this.active < this.parallel && !this.signal.aborted && this.cursorRead < this.reads.length) {
      const read = this.reads[this.cursorRead]!;
      const layout = this.layout(this.cursorRead);
      // A blob not yet begun whose origin has refused Range since it was laid out is read in one stream
      // (the writer may already wait on its first segment: wake it).
      if (
        !layout.direct &&
        !layout.fellBack &&
        this.cursorSegment === 0 &&
        !layout.segments[0]!.whole &&
        read.range?.refused
      ) {
        layout.fellBack = true;
        this.wakeWriter?.();
      }
      const next = layout.segments[this.cursorSegment];
      if (layout.direct || layout.fellBack || !next) {
        this.cursorRead++;
        this.cursorSegment = 0;
        continue;
      }
      if (next.state !== 'idle') {
        this.cursorSegment++;
        continue;
      }
      const length = next.end - next.start;
      // Nothing held means the writer waits for this very segment: it starts whatever the budget.
      if (this.reserved > 0 && this.reserved + length > this.budget) return;
      this.cursorSegment++;
      this.run(read, layout, next);
    }
  }

  private run(read: ScheduledRead, layout: Layout, seg: Segment): void {
    seg.state = 'running';
    seg.reserved = seg.end - seg.start;
    this.reserved += seg.reserved;
    this.active++;
    const controller = new AbortController();
    seg.controller = controller;
    const onAbort = () => controller.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    const push = (chunk: Uint8Array) => {
      if (seg.state === 'dropped') return;
      seg.chunks.push(chunk);
      this.buffered += chunk.byteLength;
      this.peakBufferedBytes = Math.max(this.peakBufferedBytes, this.buffered);
      read.onBytes(chunk.byteLength);
      seg.wake?.();
    };
    const common = {
      what: read.what,
      signal: controller.signal,
      onRequest: () => void this.requests++,
      stalls: this.stallsOf(read),
      ...(read.onStall ? { onStall: read.onStall } : {}),
    };
    const fetched = seg.whole
      ? (async () => {
          const body = resumableBody((offset, wait) => read.open(offset, undefined, controller.signal, wait), {
            ...common,
            size: read.size,
            pieces: this.pieces,
          });
          for await (const chunk of body) push(chunk);
        })()
      : fetchSegment(read.open, seg.start, seg.end, { ...common, total: read.size, pieces: this.pieces }, push);
    fetched
      .then(
        () => {
          if (seg.state === 'running') seg.state = 'done';
        },
        (error: unknown) => {
          if (seg.state !== 'running') return;
          // Refused at once, so no further segment of this blob (or of its registry's) is asked for.
          if (error instanceof RangeRefused && !this.signal.aborted) return this.fallBack(read, layout);
          seg.state = 'failed';
          seg.error = this.signal.aborted ? abortError(this.signal) : error;
        },
      )
      .finally(() => {
        this.signal.removeEventListener('abort', onAbort);
        this.active--;
        seg.wake?.();
        this.pump();
      });
  }

  /** One blob's stalls, over its segments and resumes. */
  private stallsOf(read: ScheduledRead): BlobStalls {
    let stalls = this.stalls.get(read);
    if (!stalls)
      this.stalls.set(read, (stalls = new BlobStalls(this.options.waits ?? waitPolicy(), read.host ?? 'the registry')));
    return stalls;
  }

  /** The writer took `bytes` of a segment: they no longer wait in memory. */
  private take(seg: Segment, bytes: number): void {
    this.buffered -= bytes;
    seg.reserved -= bytes;
    this.reserved -= bytes;
    this.pump();
  }

  private release(seg: Segment): void {
    this.reserved -= seg.reserved;
    seg.reserved = 0;
    this.pump();
  }

  /** Drops a blob's segments (their requests end, their bytes are freed); the writer reads it in one stream. */
  private fallBack(read: ScheduledRead, layout: Layout): void {
    this.fallbacks++;
    layout.fellBack = true;
    if (read.range) read.range.refused = true;
    for (const seg of layout.segments) {
      if (seg.state === 'running') seg.controller?.abort();
      seg.state = 'dropped';
      for (const chunk of seg.chunks) this.buffered -= chunk.byteLength;
      seg.chunks = [];
      this.release(seg);
    }
    this.wakeWriter?.();
  }

  /** `pieces`: the reader gives chunks back (`reuse`); not for a second look, which may be read twice. */
  private async *direct(read: ScheduledRead, start: number, pieces?: PiecePool): AsyncGenerator<Uint8Array> {
    this.active++;
    try {
      const body = resumableBody((offset, wait) => read.open(offset, undefined, this.signal, wait), {
        size: read.size,
        what: read.what,
        signal: this.signal,
        start,
        onRequest: () => void this.requests++,
        stalls: this.stallsOf(read),
        ...(read.onStall ? { onStall: read.onStall } : {}),
        ...(pieces ? { pieces } : {}),
      });
      for await (const chunk of body) {
        read.onBytes(chunk.byteLength);
        yield chunk;
      }
    } finally {
      this.active--;
      this.pump();
    }
  }
}
