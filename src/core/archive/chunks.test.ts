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
  assert.deepEqual(
    pieces.map((p) => p.byteLength),
    [700, 1000, 1000, 1000, 1000, 1000, 1000, 300],
  );
  assert.deepEqual([...pieces.flatMap((p) => [...p])], expected);
  assert.equal(new Set(pieces.map((p) => p.buffer)).size, pieces.length, 'every piece has a buffer of its own');
  assert.ok(
    pieces.every((p) => p.byteOffset === 0 && p.byteLength === p.buffer.byteLength),
    'pieces cover their buffers (transferable as they are)',
  );
});

test('a whole piece given away passes uncopied only when nothing is held', async () => {
  const pieces: Uint8Array[] = [];
  const writer = new ChunkWriter(async (chunk) => void pieces.push(chunk), 4, 60_000);
  const whole = new Uint8Array([1, 2, 3, 4]);
  assert.equal(await writer.passWhole(whole), true);
  assert.equal(pieces[0], whole, 'the same buffer, not a copy');
  await writer.write(new Uint8Array([5]));
  await writer.write(new Uint8Array([6]));
  assert.equal(await writer.passWhole(new Uint8Array([7, 8, 9, 10])), false, 'bytes are held: order must be kept');
  assert.equal(await writer.passWhole(new Uint8Array([7, 8])), false, 'not a whole piece');
  await writer.flush();
  // The piece passed counts as a hand-over, so the small writes after it were held and gathered.
  assert.deepEqual(
    pieces.map((p) => [...p]),
    [
      [1, 2, 3, 4],
      [5, 6],
    ],
  );
});

test('pieces come from the pool the sink gives them back to, so a long archive reuses a few buffers', async () => {
  const pool: Uint8Array[] = [];
  let fresh = 0;
  const buffers = new Set<ArrayBufferLike>();
  const writer = new ChunkWriter(
    async (chunk) => {
      buffers.add(chunk.buffer);
      assert.deepEqual([...chunk], new Array<number>(chunk.byteLength).fill(chunk[0]!), 'one fill per piece');
      pool.push(chunk); // the sink is done with the bytes: the buffer goes back
    },
    1000,
    60_000,
    (size) => pool.pop() ?? (fresh++, new Uint8Array(size)),
  );
  for (let i = 0; i < 20; i++) await writer.write(new Uint8Array(1000).fill(i));
  await writer.flush();
  assert.equal(fresh, 1, 'one buffer, filled twenty times');
  assert.equal(buffers.size, 1);
});
