/**
 * Buffers a blob's body is read into ("bring your own buffer" reads), given back once the archive holds
 * their bytes and filled again. Read the usual way, every chunk of a GB pulled is a fresh buffer left to the
 * garbage collector, and a browser's worker then rises and falls by 100–200 MiB between collections; with
 * pieces the same few MiB are filled over and over.
 */

/** Small enough that a slow connection still hands on bytes often; large enough to be few. */
export const PIECE_BYTES = 256 * 1024;

export class PiecePool {
  private readonly free: ArrayBuffer[] = [];
  /** Buffers of filled pieces now out with a reader of their bytes (a read hands back a new ArrayBuffer
   *  object over the same memory each time, so the pool knows its pieces by the object they end as). */
  private readonly out = new WeakSet<ArrayBuffer>();
  /** Pieces made so far (the rest were filled again). */
  allocated = 0;

  constructor(
    /** Free pieces kept beyond this are left to the collector. */
    private readonly maxFreeBytes: number,
    readonly pieceBytes = PIECE_BYTES,
  ) {}

  /** An empty piece to read into. */
  take(): Uint8Array<ArrayBuffer> {
    const reused = this.free.pop();
    if (!reused) this.allocated++;
    return new Uint8Array(reused ?? new ArrayBuffer(this.pieceBytes));
  }

  /** `bytes` (the first bytes of a piece) go out to be read. */
  filled(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    this.out.add(bytes.buffer);
    return bytes;
  }

  /**
   * The reader is done with `chunk` and nothing will read it again: its piece is filled again (reading into
   * it detaches every view of it). Chunks that are not out from this pool are left alone.
   */
  giveBack(chunk: Uint8Array): void {
    const { buffer } = chunk;
    if (!(buffer instanceof ArrayBuffer) || !this.out.has(buffer)) return;
    this.out.delete(buffer);
    if (buffer.byteLength === this.pieceBytes && (this.free.length + 1) * this.pieceBytes <= this.maxFreeBytes)
      this.free.push(buffer);
  }
}
