import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slicedFile } from './push-job.ts';

describe('slicedFile', () => {
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);

  it('serves any range in pieces of at most the slice size, the bytes unchanged', async () => {
    const file = slicedFile(new Blob([bytes]), 1024);
    const chunks: Uint8Array[] = [];
    const reader = file.slice(100, 9_000).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    assert.ok(chunks.every((c) => c.byteLength <= 1024));
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(bytes.subarray(100, 9_000)));
  });

  it('reads a piece only when the one before was taken', async () => {
    let reads = 0;
    const blob = new Blob([bytes]);
    const counting = {
      size: blob.size,
      slice: (start: number, end: number) => {
        reads++;
        return blob.slice(start, end);
      },
    } as unknown as Blob;
    const reader = slicedFile(counting, 1024).slice(0, bytes.length).getReader();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(reads, 0, 'nothing read before it is asked for');
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(reads, 1, 'one piece per read');
    await reader.cancel();
  });
});
