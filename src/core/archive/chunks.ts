/**
 * Gathers the archive's many small writes (tar headers, decoder output) into large pieces for the sink.
 * Every piece handed on is a buffer that is never touched again, so a sink may keep it or transfer it to
 * another thread; the bytes written are copied in, so whoever wrote them may reuse their buffer as soon as
 * `write` settles (the engine's decoders inflate into one buffer, over and over). Pieces are fresh unless
 * `allocate` hands out buffers the sink gave back (a pool: a GB pulled then leaves no GB of garbage behind).
 */
export class ChunkWriter {
  private buffer: Uint8Array | undefined;
  private fill = 0;
  private lastFlush = -Infinity;

  constructor(
    private readonly sink: (chunk: Uint8Array) => Promise<void>,
    private readonly size: number,
    /** Bytes held longer than this go out with the next write: the first bytes, and a slow pull's progress, reach the file. */
    private readonly holdMs: number,
    /** A buffer of `size` bytes for the next piece; it must be one nothing else touches any more. */
    private readonly allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength;) {
      this.buffer ??= this.allocate(this.size);
      const n = Math.min(this.size - this.fill, chunk.byteLength - at);
      this.buffer.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.size) await this.flush();
    }
    if (this.fill > 0 && Date.now() - this.lastFlush >= this.holdMs) await this.flush();
  }

  /**
   * Hands on `chunk` itself, uncopied, when it is one whole piece and nothing is held, and says whether it
   * did; for a caller that gives the chunk away (it must not touch it again).
   */
  async passWhole(chunk: Uint8Array): Promise<boolean> {
    if (this.fill > 0 || chunk.byteLength !== this.size) return false;
    this.lastFlush = Date.now();
    await this.sink(chunk);
    return true;
  }

  /** Hands on what is gathered (at the end, and whenever the caller wants it out). */
  async flush(): Promise<void> {
    if (!this.buffer || this.fill === 0) return;
    const out = this.fill === this.size ? this.buffer : this.buffer.slice(0, this.fill);
    this.buffer = undefined;
    this.fill = 0;
    this.lastFlush = Date.now();
    await this.sink(out);
  }
}
