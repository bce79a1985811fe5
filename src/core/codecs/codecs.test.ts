import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SkiffError } from '../errors.ts';
import { type Decoder, OutputLimit } from './decoder.ts';
import { GunzipDecoder } from './gunzip.ts';
import { ZstdDecoder } from './zstd.ts';
import { createSha256 } from './sha256.ts';

/** Feeds `input` in chunks of `size` (the boundaries are what breaks streaming decoders). */
function run(decoder: Decoder, input: Uint8Array, size: number): Buffer {
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.byteLength; i += size) out.push(...decoder.push(input.subarray(i, i + size)));
  out.push(...decoder.finish());
  return Buffer.concat(out);
}

const text = Buffer.from('layer data '.repeat(5000));
const noise = randomBytes(200_000);

test('gunzip restores the data whatever the chunking', () => {
  const gz = gzipSync(noise);
  for (const size of [1, 7, 512, 65536, gz.byteLength]) {
    assert.deepEqual(run(new GunzipDecoder('t'), gz, size), noise, `chunk size ${size}`);
  }
});

test('gunzip reads every member of a multi-member stream, also when a member ends at a chunk boundary', () => {
  const a = gzipSync(text);
  const b = gzipSync(noise);
  const c = gzipSync(Buffer.alloc(0));
  const all = Buffer.concat([a, b, c]);
  for (const size of [a.byteLength, 1000, 4096, all.byteLength]) {
    const decoder = new GunzipDecoder('t');
    assert.deepEqual(run(decoder, all, size), Buffer.concat([text, noise]), `chunk size ${size}`);
    assert.equal(decoder.multiMember, true, `multi-member seen at chunk size ${size}`);
  }
  const single = new GunzipDecoder('t');
  run(single, a, 1000);
  assert.equal(single.multiMember, false);
});

test('gunzip refuses truncated, corrupt and non-gzip input with a SkiffError', () => {
  const gz = gzipSync(noise);
  const bad = (input: Uint8Array) => () => run(new GunzipDecoder('Layer x'), input, 4096);
  const isBadLayer = (e: unknown) =>
    e instanceof SkiffError && e.code === 'bad-layer' && e.message.startsWith('Layer x');
  assert.throws(bad(gz.subarray(0, gz.byteLength - 100)), isBadLayer);
  assert.throws(bad(Buffer.from('this is not gzip at all, just text')), isBadLayer);
  const flipped = Buffer.from(gz);
  flipped[flipped.byteLength - 6]! ^= 0xff; // inside the CRC32 trailer
  assert.throws(bad(flipped), isBadLayer);
  assert.throws(bad(new Uint8Array(0)), isBadLayer);
});

test('zstd restores multi-frame data whatever the chunking, and refuses a truncated stream', () => {
  const frame = (data: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: data });
  const zst = Buffer.concat([frame(text), frame(noise)]);
  for (const size of [1, 100, 65536, zst.byteLength]) {
    assert.deepEqual(run(new ZstdDecoder('t'), zst, size), Buffer.concat([text, noise]), `chunk size ${size}`);
  }
  assert.throws(
    () => run(new ZstdDecoder('Layer z'), zst.subarray(0, zst.byteLength - 50), 4096),
    (e) => e instanceof SkiffError && e.code === 'bad-layer',
  );
});

test('the output limit counts bytes, not ratio: zeros at 1000:1 pass under the limit and stop above it', () => {
  const zeros = gzipSync(Buffer.alloc(20 * 2 ** 20));
  assert.ok(zeros.byteLength * 500 < 20 * 2 ** 20);
  const limit = new OutputLimit(32 * 2 ** 20, 'Layer zeros');
  const decoder = new GunzipDecoder('Layer zeros');
  let total = 0;
  for (const out of limit.count([...decoder.push(zeros), ...decoder.finish()])) total += out.byteLength;
  assert.equal(total, 20 * 2 ** 20);
  const tight = new OutputLimit(8 * 2 ** 20, 'Layer zeros');
  assert.throws(
    () => [...tight.count(new GunzipDecoder('Layer zeros').push(zeros))],
    (e) => e instanceof SkiffError && e.code === 'too-large' && /8 MiB|8388608/.test(e.message),
  );
});

test('streaming sha256 equals node:crypto over the same chunks', async () => {
  const hash = await createSha256();
  for (let i = 0; i < noise.byteLength; i += 9999) await hash.update(noise.subarray(i, i + 9999));
  assert.equal(await hash.digest(), `sha256:${createHash('sha256').update(noise).digest('hex')}`);
});

test('gunzip into one reused buffer gives the same bytes when each chunk is taken before the next', () => {
  const a = gzipSync(text);
  const b = gzipSync(noise);
  const all = Buffer.concat([a, b]);
  // Tiny output buffers: every push fills several, and members end mid-buffer and at push boundaries.
  for (const outputSize of [1, 1000, 65536]) {
    for (const size of [1, a.byteLength, 4096, all.byteLength]) {
      const decoder = new GunzipDecoder('t', { reuseOutput: true, outputSize });
      const out: Buffer[] = [];
      for (let i = 0; i < all.byteLength; i += size)
        for (const chunk of decoder.push(all.subarray(i, i + size))) out.push(Buffer.from(chunk));
      for (const chunk of decoder.finish()) out.push(Buffer.from(chunk));
      assert.deepEqual(Buffer.concat(out), Buffer.concat([text, noise]), `output ${outputSize}, chunk ${size}`);
      assert.equal(decoder.multiMember, true);
    }
  }
});

test('gunzip ignores zero padding after the last member and refuses anything else there', () => {
  const gz = gzipSync(text);
  for (const size of [gz.byteLength, 100, gz.byteLength + 512]) {
    assert.deepEqual(
      run(new GunzipDecoder('t'), Buffer.concat([gz, Buffer.alloc(512)]), size),
      text,
      `padding, chunk ${size}`,
    );
  }
  const junk = Buffer.concat([gz, Buffer.alloc(10), Buffer.from('junk')]);
  assert.throws(
    () => run(new GunzipDecoder('Layer j'), junk, 4096),
    (e) => e instanceof SkiffError && e.code === 'bad-layer',
  );
  assert.throws(
    () => run(new GunzipDecoder('Layer j'), Buffer.concat([gz, Buffer.from('junk')]), gz.byteLength),
    (e) => e instanceof SkiffError && e.code === 'bad-layer',
  );
});
