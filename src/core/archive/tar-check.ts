/**
 * Follows the structure of a layer's tar stream as it passes, without keeping it: header checksums, and
 * each entry's declared size against the bytes that follow. A layer whose digest is right can still hold a
 * broken archive (an entry that runs past the end); docker load would fail on it much later, so we say so
 * here, naming the entry. Reads what Go's archive/tar reads: ustar, GNU base-256 sizes, PAX `size`.
 * And ends where it ends: a layer may stop right after the last entry's data, or after its padding, without
 * the end-of-archive blocks (umoci writes such layers; docker and skopeo load them), or inside the padding
 * (Go's reader takes a short padding read as the end). Only an end inside an entry's data or inside a
 * header is refused, as Go's reader refuses it.
 */
import { SkiffError } from '../errors.ts';

const BLOCK = 512;
/** Entry types whose data length is 0 whatever their size field says (Go's isHeaderOnlyType). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
const MAX_PAX_BYTES = 1024 * 1024;

export class TarChecker {
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Data (and padding) bytes of the current entry still to come. */
  private skip = 0;
  /** Of those, the padding to the next 512-byte block. */
  private padding = 0;
  private entryName = '';
  private entrySize = 0;
  private offset = 0;
  private ended = false;
  /** PAX extended header data being collected, and the size it sets for the next entry. */
  private pax: Uint8Array[] | undefined;
  private paxLeft = 0;
  private nextSize: number | undefined;

  constructor(private readonly what: string) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.byteLength - at);
        if (this.pax && this.paxLeft > 0) {
          const take = Math.min(n, this.paxLeft);
          this.pax.push(chunk.slice(at, at + take));
          this.paxLeft -= take;
        }
        this.skip -= n;
        at += n;
        this.offset += n;
        if (this.skip === 0 && this.pax) this.readPax();
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.byteLength - at);
      this.header.set(chunk.subarray(at, at + n), this.headerFill);
      this.headerFill += n;
      at += n;
      this.offset += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.readHeader();
      }
    }
  }

  finish(): void {
    if (this.ended) return;
    if (this.skip > this.padding) {
      const got = this.entrySize - (this.skip - this.padding);
      throw this.fail(
        `tar entry "${this.entryName}" declares ${this.entrySize} bytes but the layer ends after ${got} of them`,
      );
    }
    if (this.headerFill > 0 && this.header.subarray(0, this.headerFill).some((b) => b !== 0)) {
      throw this.fail(`the layer ends inside a tar header (${this.headerFill} of 512 bytes)`);
    }
  }

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      // The end-of-archive marker; what follows (more zero blocks, padding) is not read by loaders.
      this.ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = parseOctal(h.subarray(148, 156));
    if (stored !== sum)
      throw this.fail(`not a valid tar archive: header checksum mismatch at byte ${this.offset - BLOCK}`);
    const name = text(h.subarray(0, 100));
    const prefix = text(h.subarray(345, 500));
    this.entryName = prefix && text(h.subarray(257, 263)).startsWith('ustar') ? `${prefix}/${name}` : name;
    const type = String.fromCharCode(h[156]!);
    let size = parseSize(h.subarray(124, 136));
    if (size === undefined) throw this.fail(`tar entry "${this.entryName}" has an unreadable size field`);
    if (type === 'x' || type === 'g') {
      if (size > MAX_PAX_BYTES) throw this.fail(`a PAX header of ${size} bytes is larger than allowed`);
      this.pax = type === 'x' ? [] : undefined;
      this.paxLeft = size;
    } else {
      if (this.nextSize !== undefined) size = this.nextSize;
      this.nextSize = undefined;
      if (HEADER_ONLY.has(type)) size = 0;
    }
    this.entrySize = size;
    this.skip = roundUp(size);
    this.padding = this.skip - size;
    if (this.skip === 0 && this.pax) this.readPax();
  }

  private readPax(): void {
    const bytes = new Uint8Array(this.pax!.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of this.pax!) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    this.pax = undefined;
    const match = /(?:^|\n)\d+ size=(\d+)\n/.exec(new TextDecoder().decode(bytes));
    if (match) this.nextSize = Number(match[1]);
  }

  private fail(detail: string): SkiffError {
    return new SkiffError('malformed-layer', `${this.what}: ${detail}`);
  }
}

function roundUp(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function parseOctal(bytes: Uint8Array): number | undefined {
  const digits = text(bytes).trim();
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : undefined;
}

/** Octal, or GNU base-256 when the first byte's high bit is set. */
function parseSize(field: Uint8Array): number | undefined {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.byteLength; i++) value = value * 256 + field[i]!;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  if (field.every((b) => b === 0)) return 0;
  return parseOctal(field);
}
