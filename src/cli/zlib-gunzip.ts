/**
 * The engine's native gunzip in Node (core/codecs/native-gunzip.ts): zlib on libuv's thread pool, so the
 * layers inflate off the engine's thread and about three times as fast as pako here (Node's own
 * `DecompressionStream` is slower than pako). zlib reads every gzip member itself, and stops quietly at
 * anything else after the last one: `consumed` tells the engine, which has pako judge those bytes.
 */
import { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { NativeGunzip } from '../core/codecs/native-gunzip.ts';

/** zlib's output buffer: fewer, larger pieces for the stages after it. */
const CHUNK = 256 * 1024;

export const zlibGunzip: NativeGunzip = () => {
  const zlib = createGunzip({ chunkSize: CHUNK });
  const { readable, writable } = Duplex.toWeb(zlib);
  return {
    readable: readable as ReadableStream<Uint8Array>,
    writable: writable as WritableStream<Uint8Array>,
    consumed: () => zlib.bytesWritten,
    // zlib stops inflating a write while its output waits to be read.
    paced: true,
  };
};
