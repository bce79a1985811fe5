import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readAtMost, readTextAtMost } from './bytes.ts';
import { SkiffError } from './errors.ts';

const streamOf = (...chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });

test('reads whole bodies up to the limit, refuses past it, or keeps the head when asked', async () => {
  const a = new Uint8Array([1, 2, 3]);
  const b = new Uint8Array([4, 5]);
  assert.deepEqual(await readAtMost(streamOf(a, b), 5), new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(await readAtMost(streamOf(a, b), 4), undefined);
  assert.deepEqual(await readAtMost(streamOf(a, b), 4, { truncate: true }), new Uint8Array([1, 2, 3, 4]));
  assert.equal(await readTextAtMost(new Response('x'.repeat(100)), 10, 't'), 'x'.repeat(10));
});

test('a body that stops sending ends in a time-out naming it, and the stream is cancelled', async () => {
  let cancelled = false;
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10));
    },
    cancel() {
      cancelled = true;
    },
  });
  const started = Date.now();
  await assert.rejects(
    readAtMost(stalled, 100, { what: 'Manifest x', idleMs: 200 }),
    (e) => e instanceof SkiffError && e.code === 'timeout' && /Manifest x: no data for/.test(e.message),
  );
  assert.ok(Date.now() - started < 2_000);
  assert.ok(cancelled);
});
