/**
 * A small POSIX tar writer for test fixtures: ustar headers, PAX extended headers where ustar cannot hold a
 * value (long or non-ASCII names and link targets, sizes of 8 GiB and more), fixed mtime and owner so the
 * same FileSpecs always give the same bytes (and so the same diff_id). Output is a lazy sequence of chunks,
 * so a huge generated file never sits in memory.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** Every entry's mtime: fixed so layers are reproducible (2024-01-01T00:00:00Z, the images' `created`). */
export const FIXED_MTIME = 1_704_067_200;

/** File data made on the fly: `zeros` compresses to almost nothing, `noise` (seeded by the path) not at all. */
export type GeneratedContent = { zeros: number } | { noise: number };

interface EntryCommon {
  /** Path inside the layer, `/`-separated; a leading `/` or `./` is dropped. */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
}
export interface RegularFileSpec extends EntryCommon {
  type?: 'file';
  /** Strings are written as UTF-8; absent means an empty file (a whiteout, for example). */
  content?: string | Uint8Array | GeneratedContent;
}
export interface DirectorySpec extends EntryCommon {
  type: 'dir';
}
export interface SymlinkSpec extends EntryCommon {
  type: 'symlink';
  /** The target as written (relative or absolute). */
  linkname: string;
}
export interface HardlinkSpec extends EntryCommon {
  type: 'hardlink';
  /** The path of an earlier entry in the same layer. */
  linkname: string;
}
export type FileSpec = RegularFileSpec | DirectorySpec | SymlinkSpec | HardlinkSpec;

const BLOCK = 512;
const ZERO_CHUNK = new Uint8Array(1 << 20);
const encoder = new TextEncoder();

/** Tracks what one layer has written, so parent directories are emitted once, before their children. */
export class TarState {
  readonly dirs = new Set<string>();
}

export function normalizePath(path: string): string {
  let p = path.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  p = p.replace(/\/{2,}/g, '/');
  if (p === '' || p === '.') throw new Error(`empty tar path: ${JSON.stringify(path)}`);
  return p;
}

/** Size in bytes of a file's data. */
export function contentSize(content: RegularFileSpec['content']): number {
  if (content === undefined) return 0;
  if (typeof content === 'string') return encoder.encode(content).length;
  if (content instanceof Uint8Array) return content.length;
  return 'zeros' in content ? content.zeros : content.noise;
}

/**
 * The tar stream of `files`, with implied parent directories (mode 0755) added the way real layer tars
 * carry them. `end` appends the two zero blocks that close an archive; leave it off to continue the same
 * archive in another gzip member.
 */
export function* tarEntries(files: readonly FileSpec[], state = new TarState(), end = true): Generator<Uint8Array> {
  for (const file of files) {
    const path = normalizePath(file.path);
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (state.dirs.has(dir)) continue;
      state.dirs.add(dir);
      yield* header({ name: `${dir}/`, type: '5', mode: 0o755, size: 0 });
    }
    const owner = { uid: file.uid ?? 0, gid: file.gid ?? 0 };
    switch (file.type) {
      case 'dir':
        state.dirs.add(path);
        yield* header({ name: `${path}/`, type: '5', mode: file.mode ?? 0o755, size: 0, ...owner });
        break;
      case 'symlink':
        yield* header({ name: path, type: '2', mode: file.mode ?? 0o777, size: 0, linkname: file.linkname, ...owner });
        break;
      case 'hardlink':
        yield* header({
          name: path,
          type: '1',
          mode: file.mode ?? 0o644,
          size: 0,
          linkname: normalizePath(file.linkname),
          ...owner,
        });
        break;
      default: {
        const size = contentSize(file.content);
        yield* header({ name: path, type: '0', mode: file.mode ?? 0o644, size, ...owner });
        yield* body(path, file.content);
        if (size % BLOCK) yield new Uint8Array(BLOCK - (size % BLOCK));
      }
    }
  }
  if (end) yield new Uint8Array(2 * BLOCK);
}

function* body(path: string, content: RegularFileSpec['content']): Generator<Uint8Array> {
  if (content === undefined) {
    return;
  } else if (typeof content === 'string') {
    yield encoder.encode(content);
  } else if (content instanceof Uint8Array) {
    yield content;
  } else if ('zeros' in content) {
    // The same zero chunk is yielded again and again; consumers only read it.
    for (let left = content.zeros; left > 0; left -= ZERO_CHUNK.length) {
      yield left >= ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, left);
    }
  } else {
    // AES-CTR keystream: fast, incompressible, and the same for the same path every run.
    const key = createHash('sha256').update(`skiff-noise:${path}`).digest();
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    for (let left = content.noise; left > 0; left -= ZERO_CHUNK.length) {
      yield cipher.update(left >= ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, left));
    }
  }
}

interface Header {
  name: string;
  type: '0' | '1' | '2' | '5' | 'x';
  mode: number;
  size: number;
  linkname?: string;
  uid?: number;
  gid?: number;
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);
/** Largest size the 11 octal digits of a ustar size field hold. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

function* header(h: Header): Generator<Uint8Array> {
  const pax: [string, string][] = [];
  const nameBytes = encoder.encode(h.name);
  if (nameBytes.length > 100 || !isAscii(h.name)) pax.push(['path', h.name]);
  if (h.linkname !== undefined && (encoder.encode(h.linkname).length > 100 || !isAscii(h.linkname))) {
    pax.push(['linkpath', h.linkname]);
  }
  if (h.size > MAX_OCTAL_SIZE) pax.push(['size', String(h.size)]);
  if (pax.length) {
    const records = encoder.encode(pax.map(([k, v]) => paxRecord(k, v)).join(''));
    const base = asciiFallback(h.name.replace(/\/$/, '').split('/').pop() ?? 'entry');
    yield ustar({ name: `PaxHeaders.0/${base}`.slice(0, 100), type: 'x', mode: 0o644, size: records.length });
    yield records;
    if (records.length % BLOCK) yield new Uint8Array(BLOCK - (records.length % BLOCK));
  }
  // With PAX in front, the ustar fields only carry a readable approximation for old readers.
  yield ustar({
    ...h,
    name: asciiFallback(h.name).slice(0, 100),
    linkname: h.linkname === undefined ? undefined : asciiFallback(h.linkname).slice(0, 100),
    size: h.size > MAX_OCTAL_SIZE ? 0 : h.size,
  });
}

/** `"<len> key=value\n"`, where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLen = encoder.encode(rest).length;
  let len = restLen + String(restLen).length;
  if (String(len).length + restLen !== len) len = restLen + String(len).length;
  return `${len}${rest}`;
}

function asciiFallback(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_');
}

function ustar(h: Header): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, length: number, value: string) => {
    const bytes = encoder.encode(value);
    if (bytes.length > length) throw new Error(`tar field overflow: ${value}`);
    block.set(bytes, offset);
  };
  const octal = (offset: number, length: number, value: number) =>
    put(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  put(0, 100, h.name);
  octal(100, 8, h.mode);
  octal(108, 8, h.uid ?? 0);
  octal(116, 8, h.gid ?? 0);
  octal(124, 12, h.size);
  octal(136, 12, FIXED_MTIME);
  put(148, 8, '        '); // checksum is computed with its own field as spaces
  put(156, 1, h.type);
  if (h.linkname) put(157, 100, h.linkname);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  octal(329, 8, 0);
  octal(337, 8, 0);
  let sum = 0;
  for (const b of block) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}
