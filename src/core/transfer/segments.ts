/** The reads a fetch scheduler (scheduler.ts) is given, and the Range segments it cuts them into. */
import type { WaitPolicy } from '../registry/transport/waits.ts';
import type { BlobOpener } from './blob-fetch.ts';

/** What one origin has shown about Range: once a segment is refused, its other big blobs are read whole. */
export class RangeSupport {
  refused = false;
}

export interface ScheduledRead {
  size: number;
  what: string;
  /** The host the bytes come from, for messages. */
  host?: string;
  open: BlobOpener;
  /** Set for blobs that may be split into Range segments (shared by the blobs of one registry). */
  range: RangeSupport | undefined;
  /** Bytes arrived from the network for this read. */
  onBytes: (bytes: number) => void;
  /** Why a request of this read is being made again after a stall or a cut; `undefined` once bytes flow. */
  onStall?: (reason: string | undefined) => void;
}

export interface SchedulerOptions {
  parallel: number;
  memoryBudgetBytes: number;
  segmentBytes: number;
  /** The wait policy (registry/transport/waits.ts): one blob's stalls are counted over all its segments. */
  waits?: WaitPolicy;
  signal?: AbortSignal;
}

export type SegmentState = 'idle' | 'running' | 'done' | 'failed' | 'dropped';

export interface Segment {
  start: number;
  end: number;
  /** The whole blob in one request without Range (small blobs). */
  whole: boolean;
  state: SegmentState;
  chunks: Uint8Array[];
  /** Budget held for this segment: its length, less what the writer has taken. */
  reserved: number;
  error?: unknown;
  controller?: AbortController;
  wake?: () => void;
}

export interface Layout {
  /** Not fetched ahead: read as one stream when the writer gets to it. */
  direct: boolean;
  segments: Segment[];
  /** A segment was refused: the rest is read as one stream from where the writer is. */
  fellBack?: boolean;
}

export function segment(start: number, end: number, whole: boolean): Segment {
  return { start, end, whole, state: 'idle', chunks: [], reserved: 0 };
}
