import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { parallelGzip } from './parallel-gzip.ts';

async function* chunked(bytes: Uint8Array, size = 100_000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

async function gzipped(input: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of parallelGzip(3)(chunked(input))) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Inflated by the platform's DecompressionStream (which checks crc and size), having checked it is one gzip
 * member: a 10-byte header, one deflate stream, and the 8-byte trailer right after it (what every inflater reads).
 */
async function inflated(gz: Uint8Array): Promise<Uint8Array> {
  const { engine } = inflateRawSync(gz.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
  assert.equal(engine.bytesWritten, gz.byteLength - 18, 'one deflate stream from the header to the trailer');
  const stream = new Blob([gz as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test('blocks deflated apart join into one gzip stream that inflates to the input', async () => {
  const text = new TextEncoder().encode('a line of a config file, like most of a layer\n'.repeat(60_000));
  const input = new Uint8Array(
    Buffer.concat([randomBytes(2_500_000), new Uint8Array(3_000_000), text, randomBytes(7)]),
  );
  const gz = await gzipped(input);
  assert.deepEqual(await inflated(gz), input);
  // noise is stored (a few bytes per 64 KiB), zeros and text shrink to almost nothing
  assert.ok(gz.byteLength < 2_500_000 * 1.001 + 100_000, `${gz.byteLength} bytes`);
});

test('noise goes stored, costing only block headers; zeros nearly vanish', async () => {
  const noise = new Uint8Array(randomBytes(3 << 20));
  const gzNoise = await gzipped(noise);
  assert.ok(gzNoise.byteLength < noise.byteLength * 1.001, `${gzNoise.byteLength} bytes for ${noise.byteLength}`);
  assert.deepEqual(await inflated(gzNoise), noise);
  const zeros = new Uint8Array(5 << 20);
  const gzZeros = await gzipped(zeros);
  assert.ok(gzZeros.byteLength < zeros.byteLength / 100, `${gzZeros.byteLength} bytes`);
  assert.deepEqual(await inflated(gzZeros), zeros);
});

test('an empty input is a valid empty gzip stream', async () => {
  assert.deepEqual(await inflated(await gzipped(new Uint8Array(0))), new Uint8Array(0));
});
