/**
 * gzip over several threads where the runtime gives no deflate with a dictionary or a sync flush (a page has
 * only `CompressionStream`): the input is cut into blocks, each compressed on its own into a whole gzip member
 * (header, deflate, crc32 and size), and the members are joined in order. RFC 1952 §2.2: "A gzip file consists
 * of a series of members". The consumers of layers read every member: containerd's and moby's
 * `compression.DecompressStream` pipe gzip through `unpigz -d -c` when it is on PATH, else Go's `gzip.NewReader`,
 * which is multistream by default (so skopeo via containers/image too); GNU gzip, Node's zlib and Skiff's own gunzip
 * (codecs/gunzip.ts) as well, and eStargz layers are such series. `skopeo copy --dest-decompress` and Skiff's
 * pull inflate pushed layers to their diff_ids (test/e2e/push-gzip.test.ts); so did `docker pull` (dockerd 20.10)
 * of a 1.2 GB push, by hand. The browser's `DecompressionStream` reads one member only; nothing here uses it on
 * layers. Each member costs 18 bytes and a fresh dictionary: 32 MiB of JavaScript came out 0.4 % larger than
 * as one zlib stream.
 */
import { gzip } from 'pako';
import type { Gzip } from './gzip.ts';

/** Bytes of input per member. */
export const MEMBER_BYTES = 1 << 20;

/** Compresses one block into one gzip member; may hand the block's buffer back for reuse. */
export type CompressBlock = (block: Uint8Array<ArrayBuffer>) => Promise<{ member: Uint8Array; spare?: ArrayBuffer }>;

/**
 * A `Gzip` that cuts its input into `MEMBER_BYTES` blocks and has `compress` make each into a member, at most
 * `inFlight` blocks at once; the members come out in input order, and the source is read no further ahead
 * than that bound (memory stays at `inFlight` blocks and their members).
 */
export function memberGzip(compress: CompressBlock, inFlight: number): Gzip {
  return async function* (source) {
    const pending: Promise<{ member: Uint8Array; spare?: ArrayBuffer }>[] = [];
    const spare: ArrayBuffer[] = [];
    const next = async () => {
      const { member, spare: back } = await pending.shift()!;
      if (back?.byteLength === MEMBER_BYTES && spare.length < inFlight) spare.push(back);
      return member;
    };
    const launch = (block: Uint8Array<ArrayBuffer>) => {
      const done = compress(block);
      done.catch(() => {}); // awaited in order below; a failure is seen there
      pending.push(done);
    };
    const fresh = () => new Uint8Array(spare.pop() ?? new ArrayBuffer(MEMBER_BYTES));
    let block = fresh();
    let fill = 0;
    let empty = true;
    for await (const chunk of source) {
      for (let at = 0; at < chunk.byteLength;) {
        const n = Math.min(MEMBER_BYTES - fill, chunk.byteLength - at);
        block.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        empty = false;
        if (fill === MEMBER_BYTES) {
          launch(block);
          while (pending.length >= inFlight) yield await next();
          block = fresh();
          fill = 0;
        }
      }
    }
    // An empty input still makes one (empty) member: a valid gzip stream.
    if (fill > 0 || empty) launch(block.slice(0, fill));
    while (pending.length > 0) yield await next();
  };
}

/** Samples a block is probed with: how many, of how many bytes, spread over it. */
const SAMPLES = 4;
const SAMPLE_BYTES = 16 << 10;
/** At or above this ratio the samples did not compress: the block is stored. */
const INCOMPRESSIBLE = 0.97;

/** The samples, side by side: one buffer per thread, reused (a worker makes thousands of members). */
let probeBuffer: Uint8Array | undefined;

/**
 * One block as one gzip member. A block whose samples do not compress (already-compressed files, noise) is
 * stored: zlib at level 6 spends as long on 1 MB of noise as on 10 MB of zeros and saves nothing, and
 * `CompressionStream` takes no level (the CLI's parallel gzip stores such blocks too, src/cli/parallel-gzip.ts).
 */
export async function gzipMember(block: Uint8Array): Promise<Uint8Array> {
  if (allZeros(block)) return zeroMember(block.byteLength);
  const step = Math.floor(block.byteLength / SAMPLES);
  if (step >= SAMPLE_BYTES) {
    const sample = (probeBuffer ??= new Uint8Array(SAMPLES * SAMPLE_BYTES));
    for (let i = 0; i < SAMPLES; i++) sample.set(block.subarray(i * step, i * step + SAMPLE_BYTES), i * SAMPLE_BYTES);
    const probe = await gzipWhole(sample);
    if (probe.byteLength - 18 >= sample.byteLength * INCOMPRESSIBLE) return storedMember(block);
  }
  return gzipWhole(block);
}

/**
 * A block of zeros (sparse files, preallocated space, disk images) is the same member every time: made once
 * per size and copied, where zlib at level 6 (CompressionStream's) would search 1 MiB of zeros at ~200 MB/s.
 */
const zeroMembers = new Map<number, Promise<Uint8Array>>();

function zeroMember(size: number): Promise<Uint8Array> {
  let member = zeroMembers.get(size);
  if (!member) {
    member = gzipWhole(new Uint8Array(size));
    zeroMembers.set(size, member);
  }
  // A copy: the caller may transfer what it is given.
  return member.then((bytes) => bytes.slice());
}

function allZeros(block: Uint8Array): boolean {
  // Four bytes at a time where the view is aligned (blocks are whole buffers), else byte by byte.
  const words = block.byteOffset % 4 === 0 ? block.byteLength >>> 2 : 0;
  const view = new Int32Array(block.buffer, block.byteOffset, words);
  for (let i = 0; i < words; i++) if (view[i] !== 0) return false;
  for (let i = words * 4; i < block.byteLength; i++) if (block[i] !== 0) return false;
  return true;
}

/** One whole gzip member of `bytes`: the runtime's CompressionStream read into one buffer, else pako. */
async function gzipWhole(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream !== 'function') return gzip(bytes);
  const stream = new CompressionStream('gzip');
  const writer = stream.writable.getWriter();
  // Neither awaited here: the read below drives the stream, and fails if they do.
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  return new Uint8Array(await new Response(stream.readable).arrayBuffer());
}

/** deflate's stored blocks hold at most this many bytes each. */
const STORED_MAX = 0xffff;

/** A gzip member whose deflate stream is stored blocks only (RFC 1951 §3.2.4): no search, 5 bytes per 64 KiB. */
export function storedMember(block: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(block.byteLength / STORED_MAX));
  const out = new Uint8Array(10 + blocks * 5 + block.byteLength + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  let at = 10;
  for (let i = 0; i < blocks; i++) {
    const piece = block.subarray(i * STORED_MAX, (i + 1) * STORED_MAX);
    const n = piece.byteLength;
    out.set([i === blocks - 1 ? 1 : 0, n & 0xff, n >>> 8, ~n & 0xff, (~n >>> 8) & 0xff], at);
    out.set(piece, at + 5);
    at += 5 + n;
  }
  const view = new DataView(out.buffer);
  view.setUint32(at, crc32(block), true);
  view.setUint32(at + 4, block.byteLength % 2 ** 32, true);
  return out;
}

/** CRC-32 tables for slicing by 8 (zlib's crc32, eight bytes per step). */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++)
    for (let t = 1; t < 8; t++)
      tables[t]![n] = (tables[0]![tables[t - 1]![n]! & 0xff]! ^ (tables[t - 1]![n]! >>> 8)) >>> 0;
  return tables;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.byteLength - 7;
  for (; i < end8; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < bytes.byteLength; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
