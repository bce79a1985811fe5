import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeBlobServer } from '../../../test/support/fake-blob-server.ts';
import { FetchScheduler, RangeSupport, type ScheduledRead } from './scheduler.ts';
import type { BlobOpener } from './blob-fetch.ts';

const KiB = 1024;

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = x = (x * 1103515245 + 12345) & 0xff;
  return out;
}

function opener(server: ReturnType<typeof fakeBlobServer>): BlobOpener {
  return (offset, last, signal) =>
    server.fetch('http://r.test/blob', {
      headers: offset > 0 || last !== undefined ? { range: `bytes=${offset}-${last ?? ''}` } : {},
      ...(signal ? { signal } : {}),
    });
}

function read(server: ReturnType<typeof fakeBlobServer>, size: number, range = new RangeSupport()): ScheduledRead {
  return { size, what: 'Blob', open: opener(server), range, onBytes: () => {} };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk.slice());
  return new Uint8Array(Buffer.concat(parts));
}

test('a big blob comes as parallel Range segments, and reads back in order', async () => {
  const blob = bytes(100 * KiB);
  const server = fakeBlobServer(blob);
  const scheduler = new FetchScheduler([read(server, blob.byteLength)], {
    parallel: 4,
    memoryBudgetBytes: 64 * KiB,
    segmentBytes: 16 * KiB,
  });
  scheduler.start();
  assert.deepEqual(await collect(scheduler.stream(0)), blob);
  assert.equal(server.peakOpen, 4, 'four segments were in flight at once');
  assert.deepEqual(
    server.requests.map((r) => r.range),
    [0, 1, 2, 3, 4, 5, 6].map((i) => `bytes=${i * 16 * KiB}-${Math.min(blob.byteLength, (i + 1) * 16 * KiB) - 1}`),
  );
  assert.ok(scheduler.peakBufferedBytes <= 64 * KiB, `peak ${scheduler.peakBufferedBytes}`);
});

test('small blobs are fetched whole (no Range), several at once, ahead of the reader', async () => {
  const blobs = [bytes(3000, 1), bytes(5000, 2), bytes(7000, 3)];
  const servers = blobs.map((b) => fakeBlobServer(b));
  const scheduler = new FetchScheduler(
    servers.map((s, i) => read(s, blobs[i]!.byteLength)),
    { parallel: 4, memoryBudgetBytes: 64 * KiB, segmentBytes: 16 * KiB },
  );
  scheduler.start();
  assert.deepEqual(
    servers.map((s) => s.requests.length),
    [1, 1, 1],
    'all three started before any was read',
  );
  for (let i = 0; i < 3; i++) assert.deepEqual(await collect(scheduler.stream(i)), blobs[i]);
  assert.ok(servers.every((s) => s.requests[0]!.range === undefined));
});

test('what waits for the reader stays within the memory budget: fetching pauses beyond it', async () => {
  const blob = bytes(200 * KiB);
  const server = fakeBlobServer(blob);
  const scheduler = new FetchScheduler([read(server, blob.byteLength)], {
    parallel: 8,
    memoryBudgetBytes: 32 * KiB,
    segmentBytes: 8 * KiB,
  });
  scheduler.start();
  // Nothing is read for a while: the budget (4 segments), not the connection count (8), bounds what starts.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.requests.length, 4);
  assert.deepEqual(await collect(scheduler.stream(0)), blob);
  assert.ok(scheduler.peakBufferedBytes <= 32 * KiB, `peak ${scheduler.peakBufferedBytes}`);
  assert.equal(server.requests.length, 25);
});

test('a segment cut mid-way is resumed from where it stopped, within its range', async () => {
  const blob = bytes(64 * KiB);
  const server = fakeBlobServer(blob, { fault: (i) => (i === 1 ? { cut: 3000 } : undefined) });
  const scheduler = new FetchScheduler([read(server, blob.byteLength)], {
    parallel: 2,
    memoryBudgetBytes: 64 * KiB,
    segmentBytes: 16 * KiB,
  });
  scheduler.start();
  assert.deepEqual(await collect(scheduler.stream(0)), blob);
  assert.ok(
    server.requests.some((r) => r.range === `bytes=${16 * KiB + 3000}-${32 * KiB - 1}`),
    server.requests.map((r) => r.range).join(' '),
  );
  assert.equal(scheduler.fallbacks, 0);
});

for (const [name, options] of [
  ['200 instead of 206', { ignoreRange: true }],
  ['the wrong Content-Range', { fault: (i: number) => (i === 2 ? { shift: 10 } : undefined) }],
] as const) {
  test(`a segment answered with ${name} falls back to one stream for that blob, same bytes`, async () => {
    const blob = bytes(80 * KiB);
    const server = fakeBlobServer(blob, options);
    const range = new RangeSupport();
    const scheduler = new FetchScheduler([read(server, blob.byteLength, range)], {
      parallel: 4,
      memoryBudgetBytes: 64 * KiB,
      segmentBytes: 16 * KiB,
    });
    scheduler.start();
    assert.deepEqual(await collect(scheduler.stream(0)), blob);
    assert.equal(scheduler.fallbacks, 1);
    assert.equal(range.refused, true);
    assert.equal(server.open, 0, 'the dropped segments ended');
  });
}

test('once a registry refused Range, its big blobs not yet begun are read in one stream', async () => {
  const first = bytes(40 * KiB, 1);
  const later = bytes(40 * KiB, 2);
  const servers = [fakeBlobServer(first, { ignoreRange: true }), fakeBlobServer(later, { ignoreRange: true })];
  const range = new RangeSupport();
  const scheduler = new FetchScheduler(
    [read(servers[0]!, first.byteLength, range), read(servers[1]!, later.byteLength, range)],
    { parallel: 1, memoryBudgetBytes: 64 * KiB, segmentBytes: 16 * KiB },
  );
  scheduler.start();
  assert.deepEqual(await collect(scheduler.stream(0)), first);
  assert.deepEqual(await collect(scheduler.stream(1)), later);
  assert.deepEqual(
    servers.map((s) => s.requests.map((r) => r.range ?? 'whole')),
    [['bytes=0-16383', 'whole'], ['whole']],
  );
});

test('close() ends every request in flight', async () => {
  const blob = bytes(128 * KiB);
  const server = fakeBlobServer(blob, { fault: () => ({ stall: 1000 }) });
  const controller = new AbortController();
  const scheduler = new FetchScheduler([read(server, blob.byteLength)], {
    parallel: 8,
    memoryBudgetBytes: 128 * KiB,
    segmentBytes: 16 * KiB,
    signal: controller.signal,
  });
  scheduler.start();
  const reading = collect(scheduler.stream(0));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.open, 8);
  controller.abort();
  await assert.rejects(reading, (e: Error) => e.name === 'SkiffError');
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(server.open, 0);
  assert.equal(scheduler.inFlight, 0);
});
