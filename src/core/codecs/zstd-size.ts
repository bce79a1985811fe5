/**
 * The uncompressed size of a zstd stream read from its frame headers, without inflating it (RFC 8878
 * §3.1.1): a frame may state its Frame_Content_Size, and the blocks after the header can be skipped by
 * their 3-byte headers. When every frame states its size, their sum is the layer's size and the pass that
 * inflates a zstd layer only to measure it can be skipped. Skippable frames (zstd:chunked's metadata) hold
 * no content. A frame without a stated size, or bytes that are not zstd, make the size unknown: inflate.
 */

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50–0x184D2A5F, a 4-byte length, then that many bytes. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

type State =
  /** Gathering `need` bytes of a frame's start (magic and frame header) or of a block header. */
  | { at: 'frame' }
  | { at: 'block' }
  /** Passing over `left` bytes (block contents, a checksum, a skippable frame's data). */
  | { at: 'skip'; left: number; then: 'frame' | 'block' }
  | { at: 'unknown' };

export class ZstdContentSize {
  private state: State = { at: 'frame' };
  private head = new Uint8Array(18);
  private held = 0;
  private total = 0;
  private frames = 0;
  private checksum = false;

  /** Feeds the next bytes of the blob, in order. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength && this.state.at !== 'unknown') {
      const state = this.state;
      if (state.at === 'skip') {
        const n = Math.min(state.left, chunk.byteLength - at);
        at += n;
        state.left -= n;
        if (state.left === 0) this.state = { at: state.then };
        continue;
      }
      // Gather header bytes one chunk at a time; the parser says how many it needs.
      const need = state.at === 'frame' ? this.frameHeaderLength() : 3;
      if (need === undefined) return this.giveUp();
      if (this.held < need) {
        const n = Math.min(need - this.held, chunk.byteLength - at);
        this.head.set(chunk.subarray(at, at + n), this.held);
        this.held += n;
        at += n;
        // The length of a frame header is known only once its descriptor byte is in.
        if (this.held < need || (state.at === 'frame' && this.frameHeaderLength() !== need)) continue;
      }
      if (state.at === 'frame') this.readFrameHeader();
      else this.readBlockHeader();
      this.held = 0;
    }
  }

  /** The uncompressed size once the whole blob was pushed, or undefined when it cannot be told without inflating. */
  size(): number | undefined {
    if (this.state.at !== 'frame' || this.held !== 0 || this.frames === 0) return undefined;
    return this.total;
  }

  private giveUp(): void {
    this.state = { at: 'unknown' };
  }

  /** Bytes from the frame's start to the end of its header, as far as the bytes held so far tell. */
  private frameHeaderLength(): number | undefined {
    if (this.held < 5) return 5;
    const magic = new DataView(this.head.buffer).getUint32(0, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return 8;
    if (magic !== ZSTD_MAGIC) return undefined;
    const descriptor = this.head[4]!;
    const single = (descriptor >> 5) & 1;
    const fcsFlag = descriptor >> 6;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
    return 5 + (single ? 0 : 1) + dictionaryBytes + fcsBytes;
  }

  private readFrameHeader(): void {
    const view = new DataView(this.head.buffer);
    const magic = view.getUint32(0, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      const left = view.getUint32(4, true);
      this.state = left ? { at: 'skip', left, then: 'frame' } : { at: 'frame' };
      return;
    }
    const descriptor = this.head[4]!;
    if (descriptor & 0x08) return this.giveUp(); // reserved bit
    const single = (descriptor >> 5) & 1;
    const fcsFlag = descriptor >> 6;
    if (fcsFlag === 0 && !single) return this.giveUp(); // this frame does not say its size
    const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
    let size: number;
    if (fcsFlag === 0) size = this.head[at]!;
    else if (fcsFlag === 1) size = view.getUint16(at, true) + 256;
    else if (fcsFlag === 2) size = view.getUint32(at, true);
    else size = Number(view.getBigUint64(at, true));
    if (!Number.isSafeInteger(this.total + size)) return this.giveUp();
    this.total += size;
    this.frames++;
    this.checksum = !!(descriptor & 0x04);
    this.state = { at: 'block' };
  }

  private readBlockHeader(): void {
    const header = this.head[0]! | (this.head[1]! << 8) | (this.head[2]! << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return this.giveUp(); // reserved block type
    // An RLE block is one byte on the wire, whatever it regenerates.
    const bytes = type === 1 ? 1 : size;
    const then = last ? 'frame' : 'block';
    const after = last && this.checksum ? 4 : 0;
    if (bytes + after === 0) this.state = { at: then };
    else if (after && bytes === 0) this.state = { at: 'skip', left: after, then };
    else this.state = { at: 'skip', left: bytes + after, then };
  }
}
