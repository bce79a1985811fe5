import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PiecePool } from './body-pieces.ts';
import { waitPolicy } from './waits.ts';
import { BlobStalls, WatchedBody } from './watched-body.ts';

const PIECE = 64 * 1024;
const body = new Uint8Array(4 * 2 ** 20 + 12_345).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
let url: string;
const server = createServer((req, res) => {
  if (req.url === '/cut') {
    // 100 000 bytes, then the connection drops.
    res.writeHead(200, { 'content-length': String(body.byteLength) });
    res.write(body.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 50));
    return;
  }
  // Written in odd slices, so reads and pieces never line up.
  let at = 0;
  const next = () => {
    if (at >= body.byteLength) return void res.end();
    const end = Math.min(body.byteLength, at + 50_001);
    res.write(body.subarray(at, end), next);
    at = end;
  };
  next();
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const stalls = () => new BlobStalls(waitPolicy(), 'test');

async function readAll(
  stream: ReadableStream<Uint8Array>,
  pool: PiecePool | undefined,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const watch = new WatchedBody(stream, stalls(), 'blob', () => '', pool);
  for (;;) {
    const { done, value } = await watch.read();
    if (done) return;
    onChunk(value);
  }
}

describe('reading a body into pieces', () => {
  it('hands on whole pieces with the bytes as sent, filling the same few pieces again', async () => {
    const pool = new PiecePool(8 * PIECE, PIECE);
    const got = new Uint8Array(body.byteLength);
    let at = 0;
    const sizes: number[] = [];
    await readAll((await fetch(url)).body!, pool, (chunk) => {
      got.set(chunk, at);
      at += chunk.byteLength;
      sizes.push(chunk.byteLength);
      pool.giveBack(chunk);
    });
    assert.equal(at, body.byteLength);
    assert.deepEqual(got, body);
    assert.ok(
      sizes.slice(0, -1).every((size) => size === PIECE),
      'every chunk but the last is a whole piece',
    );
    assert.ok(pool.allocated <= 2, `${pool.allocated} pieces made for ${sizes.length} chunks`);
  });

  it('never fills a piece again that was not given back', async () => {
    const pool = new PiecePool(8 * PIECE, PIECE);
    const kept: { chunk: Uint8Array; copy: Uint8Array }[] = [];
    let n = 0;
    await readAll((await fetch(url)).body!, pool, (chunk) => {
      // Every third chunk is kept by its reader; the others are given back.
      if (n++ % 3 === 0) kept.push({ chunk, copy: chunk.slice() });
      else pool.giveBack(chunk);
    });
    for (const { chunk, copy } of kept) assert.deepEqual(chunk, copy);
    assert.ok(pool.allocated >= kept.length);
  });

  it('hands on the bytes a cut left in a piece before the failure, so a resume asks only for the rest', async () => {
    const pool = new PiecePool(8 * PIECE, PIECE);
    const got: number[] = [];
    await assert.rejects(
      readAll((await fetch(`${url}cut`)).body!, pool, (chunk) => {
        assert.deepEqual(
          chunk,
          body.subarray(
            got.reduce((a, b) => a + b, 0),
            got.reduce((a, b) => a + b, 0) + chunk.byteLength,
          ),
        );
        got.push(chunk.byteLength);
      }),
    );
    assert.deepEqual(got, [PIECE, 100_000 - PIECE]);
  });

  it('reads a stream that is not a byte stream as its own chunks', async () => {
    const pool = new PiecePool(8 * PIECE, PIECE);
    const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const got: Uint8Array[] = [];
    await readAll(stream, pool, (chunk) => got.push(chunk));
    assert.deepEqual(got, chunks);
    assert.equal(pool.allocated, 0);
  });
});
