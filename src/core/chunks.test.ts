import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkWriter } from './chunks.ts';

test('the chunk writer hands on fresh full-size pieces, copying what it is given', async () => {
  const pieces: Uint8Array[] = [];
  const writer = new ChunkWriter(async (chunk) => void pieces.push(chunk), 1000, 60_000);
  const scratch = new Uint8Array(700);
  const expected: number[] = [];
  for (let i = 0; i < 10; i++) {
    scratch.fill(i);
    await writer.write(scratch);
    expected.push(...scratch);
    scratch.fill(0xff); // the caller reuses its buffer at once
  }
  await writer.flush();
  // The first write goes out at once (the first bytes of a download), the rest in 1000-byte pieces.
  assert.deepEqual(pieces.map((p) => p.byteLength), [700, 1000, 1000, 1000, 1000, 1000, 1000, 300]);
  assert.deepEqual([...pieces.flatMap((p) => [...p])], expected);
  assert.equal(new Set(pieces.map((p) => p.buffer)).size, pieces.length, 'every piece has a buffer of its own');
  assert.ok(pieces.every((p) => p.byteOffset === 0 && p.byteLength === p.buffer.byteLength), 'pieces cover their buffers (transferable as they are)');
});
