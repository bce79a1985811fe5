/**
 * Reads a tar's table of contents by walking its headers: one 512-byte read per entry, the data skipped,
 * so a tar of many GB is indexed in a few reads. ustar, PAX (path, linkpath, size) and GNU long names and
 * base-256 sizes are understood. Entry data is read later, as a stream, through `openEntry`.
 */
import { type RandomAccessBlob, readBytes, subBlob } from './random-access.ts';
import { SkiffError } from '../errors.ts';

const BLOCK = 512;
const HEAD_BYTES = 16;

export interface TarIndexEntry {
  /** Path as written, without a leading `./`. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Where the entry's data starts in the tar. */
  offset: number;
  size: number;
  linkname?: string;
  /** The data itself, kept for small files when the tar can only be read in order. */
  data?: Uint8Array;
  /** The first bytes of a larger file (its magic), kept in the same case so no later read goes back. */
  head?: Uint8Array;
}

export interface WalkOptions {
  /** Keep the data of files up to this size in `data` (for sequential sources: JSON read after the walk). */
  keepSmallFiles?: number;
  signal?: AbortSignal;
}

const decoder = new TextDecoder();

function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const nul = bytes.indexOf(0);
  return decoder.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function numeric(block: Uint8Array, offset: number, length: number, what: string): number {
  if (block[offset]! & 0x80) {
    // GNU base-256: big-endian, the top bit of the first byte a flag.
    let value = block[offset]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    if (!Number.isSafeInteger(value)) throw badTar(`${what} is too large`);
    return value;
  }
  const text = field(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw badTar(`${what} is not an octal number (${JSON.stringify(text)})`);
  return parseInt(text, 8);
}

function badTar(detail: string): SkiffError {
  return new SkiffError('bad-layer', `The file is not a tar archive Skiff can read: ${detail}`);
}

function checksumOk(block: Uint8Array): boolean {
  const stored = numeric(block, 148, 8, 'the header checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** True when the block looks like a tar header (valid checksum): how a plain tar is told from anything else. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.byteLength < BLOCK || block.every((b) => b === 0)) return false;
  try {
    return checksumOk(block);
  } catch {
    return false;
  }
}

function parsePax(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = decoder.decode(bytes);
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    if (space < 0) break;
    const length = Number(text.slice(at, space));
    if (!Number.isSafeInteger(length) || length <= 0) break;
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

function cleanName(name: string): string {
  let out = name;
  while (out.startsWith('./')) out = out.slice(2);
  return out.replace(/\/+$/, '');
}

export async function walkTar(blob: RandomAccessBlob, options: WalkOptions = {}): Promise<TarIndexEntry[]> {
  const entries: TarIndexEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    const block = await readBytes(blob, offset, offset + BLOCK);
    if (block.byteLength === 0) {
      if (Object.keys(pax).length || longName !== undefined || longLink !== undefined)
        throw badTar('it ends after an extended header, before its entry');
      break; // tars that end without the two zero blocks (umoci) do exist
    }
    if (block.byteLength < BLOCK) throw badTar(`it ends in the middle of a header at byte ${offset}`);
    if (block.every((b) => b === 0)) break;
    if (!checksumOk(block)) throw badTar(`the header at byte ${offset} has a wrong checksum`);
    const typeflag = String.fromCharCode(block[156]!);
    let size = numeric(block, 124, 12, 'an entry size');
    const dataStart = offset + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > 1024 * 1024) throw badTar(`an extended header of ${size} bytes`);
      const data = await readBytes(blob, dataStart, dataStart + size);
      if (data.byteLength < size) throw badTar(`it ends inside an extended header at byte ${dataStart}`);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(data) };
      else if (typeflag === 'L') longName = field(data, 0, data.byteLength);
      else if (typeflag === 'K') longLink = field(data, 0, data.byteLength);
      offset = next;
      continue;
    }
    const prefix = field(block, 345, 155);
    const magic = field(block, 257, 6);
    let name = field(block, 0, 100);
    if (magic.startsWith('ustar') && prefix) name = `${prefix}/${name}`;
    if (longName !== undefined) name = longName;
    if (pax.path !== undefined) name = pax.path;
    if (pax.size !== undefined) size = Number(pax.size);
    if (!Number.isSafeInteger(size) || size < 0) throw badTar(`entry ${name} has an invalid size`);
    let linkname = field(block, 157, 100);
    if (longLink !== undefined) linkname = longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    const type: TarIndexEntry['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    const entry: TarIndexEntry = { name: cleanName(name), type, offset: dataStart, size };
    if (type === 'symlink' || type === 'hardlink') entry.linkname = linkname;
    if (type === 'file' && options.keepSmallFiles !== undefined) {
      if (size <= options.keepSmallFiles) entry.data = await readBytes(blob, dataStart, dataStart + size);
      else entry.head = await readBytes(blob, dataStart, dataStart + HEAD_BYTES);
    }
    entries.push(entry);
    pax = {};
    longName = undefined;
    longLink = undefined;
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (blob.size !== Infinity && dataStart + size > blob.size)
      throw badTar(`entry ${entry.name} runs past the end of the file (truncated)`);
  }
  return entries;
}

/** A tar's entries by name, links followed, for reading files out of it. */
export class TarIndex {
  private readonly byName = new Map<string, TarIndexEntry>();

  constructor(
    readonly blob: RandomAccessBlob,
    readonly entries: TarIndexEntry[],
  ) {
    for (const entry of entries) this.byName.set(entry.name, entry);
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** The regular file a name leads to, following symlinks (relative to their directory) and hardlinks. */
  find(name: string): TarIndexEntry | undefined {
    let current = cleanName(name);
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.byName.get(current);
      if (!entry) return undefined;
      if (entry.type === 'file') return entry;
      if (entry.type === 'hardlink') current = cleanName(entry.linkname ?? '');
      else if (entry.type === 'symlink') current = resolvePath(current, entry.linkname ?? '');
      else return undefined;
    }
    return undefined;
  }

  require(name: string, what: string): TarIndexEntry {
    const entry = this.find(name);
    if (!entry) throw new SkiffError('bad-manifest', `${what}: the archive has no file ${JSON.stringify(name)}`);
    return entry;
  }

  /** A file's data as a blob of its own. */
  open(entry: TarIndexEntry): RandomAccessBlob {
    return subBlob(this.blob, entry.offset, entry.size);
  }

  /** A small file read whole (JSON). */
  async read(entry: TarIndexEntry, limit: number, what: string): Promise<Uint8Array> {
    if (entry.size > limit)
      throw new SkiffError('too-large', `${what} is ${entry.size} bytes; refusing more than ${limit}`);
    if (entry.data) return entry.data;
    return readBytes(this.blob, entry.offset, entry.offset + entry.size);
  }
}

function resolvePath(from: string, link: string): string {
  if (link.startsWith('/')) return cleanName(link.slice(1));
  const parts = from.split('/').slice(0, -1);
  for (const part of link.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}
