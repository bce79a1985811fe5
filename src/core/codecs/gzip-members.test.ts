import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 as zlibCrc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { GunzipDecoder } from './gunzip.ts';
import { MEMBER_BYTES, crc32, gzipMember, memberGzip, storedMember } from './gzip-members.ts';

/** 6.5 MiB: zeros, then noise, then text, in uneven chunks (so blocks straddle chunks). */
function input(): Buffer {
  const text = Buffer.from('layer contents, line after line\n'.repeat(60_000));
  return Buffer.concat([Buffer.alloc(3 * MEMBER_BYTES), randomBytes(1.5 * MEMBER_BYTES), text]).subarray(
    0,
    6.5 * MEMBER_BYTES,
  );
}

async function* chunked(bytes: Uint8Array, size = 700_001): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.slice(at, at + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out);
}

/** gzip members in a stream: each starts with the magic bytes right after the one before ends. */
function countMembers(gz: Buffer): number {
  let members = 0;
  for (let at = 0; at < gz.byteLength; members++) {
    assert.deepEqual([...gz.subarray(at, at + 3)], [0x1f, 0x8b, 8], `member ${members} starts with gzip's magic`);
    at += memberLength(gz.subarray(at));
  }
  return members;
}

/** The bytes of the member `gz` starts with: a 10-byte header (no name), the deflate stream, an 8-byte trailer. */
function memberLength(gz: Buffer): number {
  const { engine } = inflateRawSync(gz.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
  return 10 + engine.bytesWritten + 8;
}

const inThread = (block: Uint8Array<ArrayBuffer>) => gzipMember(block).then((member) => ({ member }));

describe('memberGzip', () => {
  it("makes one member per MiB block, in order: a gzip stream that inflates to the input (Node, and Skiff's gunzip)", async () => {
    const bytes = input();
    const gz = await collect(memberGzip(inThread, 4)(chunked(bytes)));
    assert.equal(countMembers(gz), 7);
    assert.deepEqual(gunzipSync(gz), bytes);
    const decoder = new GunzipDecoder('test');
    const hash = createHash('sha256');
    for (const out of decoder.push(gz)) hash.update(out);
    for (const out of decoder.finish()) hash.update(out);
    assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    assert.ok(gz.byteLength < bytes.byteLength / 2, `zeros and text compress: ${gz.byteLength} bytes`);
  });

  it('keeps at most `inFlight` blocks out at once, and reads no further ahead', async () => {
    let out = 0;
    let peak = 0;
    let read = 0;
    const slow = async (block: Uint8Array<ArrayBuffer>) => {
      peak = Math.max(peak, ++out);
      await new Promise((resolve) => setTimeout(resolve, 5));
      out--;
      return inThread(block);
    };
    async function* counted() {
      for await (const chunk of chunked(new Uint8Array(20 * MEMBER_BYTES), MEMBER_BYTES)) {
        read += chunk.byteLength;
        yield chunk;
      }
    }
    let taken = 0;
    for await (const _ of memberGzip(slow, 3)(counted())) {
      taken++;
      assert.ok(read <= (taken + 3) * MEMBER_BYTES, `${read} bytes read with ${taken} members taken`);
    }
    assert.equal(peak, 3);
  });

  it('an empty input is one empty member', async () => {
    const gz = await collect(memberGzip(inThread, 2)(chunked(new Uint8Array(0))));
    assert.equal(gunzipSync(gz).byteLength, 0);
  });

  it("a block's failure, and the source's, reach the caller", async () => {
    const failure = new Error('worker gone');
    await assert.rejects(collect(memberGzip(() => Promise.reject(failure), 2)(chunked(input()))), (e) => e === failure);
    const short = new Error('file ended early');
    async function* failing() {
      yield new Uint8Array(3 * MEMBER_BYTES);
      throw short;
    }
    await assert.rejects(collect(memberGzip(inThread, 2)(failing())), (e) => e === short);
  });
});

describe('gzipMember', () => {
  it('stores a block of noise (no search for matches it lacks), compresses zeros', async () => {
    const noise = randomBytes(MEMBER_BYTES);
    const stored = Buffer.from(await gzipMember(noise));
    assert.ok(stored.byteLength > noise.byteLength && stored.byteLength < noise.byteLength + 128);
    assert.deepEqual(gunzipSync(stored), noise);
    for (const size of [MEMBER_BYTES, 1001]) {
      const zeros = await gzipMember(new Uint8Array(size));
      assert.ok(zeros.byteLength < 4096);
      assert.deepEqual(gunzipSync(zeros), Buffer.alloc(size));
      zeros.fill(1); // a member handed out is the caller's own: the next one is whole
      assert.deepEqual(gunzipSync(await gzipMember(new Uint8Array(size))), Buffer.alloc(size));
    }
    const almost = new Uint8Array(MEMBER_BYTES);
    almost[MEMBER_BYTES - 1] = 7;
    assert.deepEqual(gunzipSync(await gzipMember(almost)), Buffer.from(almost));
  });

  it("a stored member of any size inflates back; crc32 is zlib's", () => {
    for (const size of [0, 1, 65_535, 65_536, 200_001]) {
      const bytes = randomBytes(size);
      assert.equal(crc32(bytes), zlibCrc32(bytes));
      assert.deepEqual(gunzipSync(storedMember(bytes)), bytes);
    }
  });
});
