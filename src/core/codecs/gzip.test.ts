import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { gzipChunks } from './gzip.ts';

async function* pieces(count: number, onEnd?: () => void, fail?: Error): AsyncGenerator<Uint8Array> {
  try {
    for (let i = 0; i < count; i++) yield new Uint8Array(64 * 1024).fill(i % 251);
    if (fail) throw fail;
  } finally {
    onEnd?.();
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out);
}

describe('gzipChunks', () => {
  for (const [name, level] of [
    ['CompressionStream (level 6)', 6],
    ['pako (level 1)', 1],
  ] as const) {
    it(`${name}: gunzips back to the input`, async () => {
      const input = await collect(pieces(40));
      const output = await collect(gzipChunks(pieces(40), level));
      assert.ok(output.byteLength < input.byteLength / 10, 'repetitive input compresses');
      assert.deepEqual(gunzipSync(output), input);
    });
    it(`${name}: the source's own error reaches the caller`, async () => {
      const failure = new Error('file ended early');
      await assert.rejects(collect(gzipChunks(pieces(5, undefined, failure), level)), (e) => e === failure);
    });
  }
  it('stopping early releases the source', async () => {
    let ended = false;
    for await (const _ of gzipChunks(pieces(10_000, () => (ended = true)))) break;
    assert.equal(ended, true);
  });
});
