/**
 * The engine's native gunzip in Node (core/codecs/native-gunzip.ts): zlib on libuv's thread pool, so the
 * layers inflate off the engine's thread and about three times as fast as pako here (Node's own
 * `DecompressionStream` is slower than pako). zlib reads every gzip member itself, and stops quietly at
 * anything else after the last one: `consumed` tells the engine, which has pako judge those bytes.
 */
import { createGunzip } from 'node:zlib';
import type { NativeGunzip, NativeGunzipStream } from '../core/codecs/native-gunzip.ts';

/** zlib's output buffer: fewer, larger pieces for the stages after it. */
const CHUNK = 256 * 1024;

/**
 * A TransformStream over zlib, not `Duplex.toWeb`: the web stream's backpressure then holds the next write
 * until what zlib made of the last one was read (through `Duplex.toWeb` it queued without bound: a 2 GB layer
 * pulled uncompressed rose the CLI's RSS past 1.2 GB).
 */
const zlibStream = (): NativeGunzipStream => {
  const zlib = createGunzip({ chunkSize: CHUNK });
  let out: TransformStreamDefaultController<Uint8Array> | undefined;
  let failed: Error | undefined;
  // zlib may end on its own (junk or zero padding after the last member): a later flush must not wait for it.
  let ended = false;
  zlib.once('end', () => (ended = true));
  zlib.on('data', (data: Buffer) => out?.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  /** What waits on zlib (a write, the end) fails with it: zlib may not call back once it failed. */
  const waiting = new Set<(error: Error) => void>();
  zlib.on('error', (error) => {
    failed = error;
    for (const reject of waiting) reject(error);
    out?.error(error);
  });
  const settle = (start: (resolve: () => void) => void) =>
    new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      waiting.add(reject);
      start(() => {
        waiting.delete(reject);
        resolve();
      });
    });
  const stream = new TransformStream<Uint8Array, Uint8Array>(
    {
      start(controller) {
        out = controller;
      },
      transform: (chunk) => settle((done) => zlib.write(chunk, () => done())),
      flush: () =>
        settle((done) => {
          if (ended) return done();
          zlib.once('end', done);
          zlib.end();
        }),
    },
    undefined,
    { highWaterMark: 1 },
  );
  return {
    readable: stream.readable,
    writable: stream.writable,
    consumed: () => zlib.bytesWritten,
    // The stream holds its next write until the last one's output was read: input needs no slicing.
    paced: true,
  };
};

/** Layers that inflate 16× or more (runs of zeros) stay on pako, as in the browser: one write could make GBs. */
export const zlibGunzip: NativeGunzip = Object.assign(zlibStream, { maxRatio: 16 });
