/**
 * The stream between the engine and the file: hashes every byte on the way (the sha256 shown when done),
 * gathers the engine's small writes into large ones (saving through a service worker or a Blob is several
 * times faster with MiB-sized chunks) and keeps backpressure: each write resolves only when the file has
 * taken the previous chunk, so a slow disk slows the network instead of filling memory.
 */
import type { Sha256 } from '../../core/codecs/sha256.ts';

export const WRITE_CHUNK = 8 * 1024 * 1024;
/** Also hand over whatever is gathered after this long: the first bytes start the browser's download UI
 *  (Chromium shows a service-worker download only once data arrives), and a slow pull still shows progress. */
export const MAX_HOLD_MS = 1000;

export interface OutputOptions {
  hash: Sha256;
  /** Cancel: aborts the file at once, even when a write is stuck behind a paused download. */
  signal?: AbortSignal;
  chunkSize?: number;
  /** Bytes handed to the file so far. */
  onWritten?: (bytes: number) => void;
}

export function outputStream(target: WritableStream<Uint8Array>, options: OutputOptions): WritableStream<Uint8Array> {
  const writer = target.getWriter();
  const chunkSize = options.chunkSize ?? WRITE_CHUNK;
  let buffer = new Uint8Array(chunkSize);
  let fill = 0;
  let written = 0;
  let aborted = false;
  let lastFlush = -Infinity;

  const abortTarget = (reason: unknown) => {
    if (aborted) return Promise.resolve();
    aborted = true;
    return writer.abort(reason).catch(() => {});
  };
  const onAbort = () => void abortTarget(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => options.signal?.removeEventListener('abort', onAbort);

  const flush = async () => {
    if (fill === 0) return;
    const out = fill === buffer.byteLength ? buffer : buffer.slice(0, fill);
    buffer = new Uint8Array(chunkSize);
    fill = 0;
    lastFlush = performance.now();
    await writer.ready;
    await writer.write(out);
    written += out.byteLength;
    options.onWritten?.(written);
  };

  return new WritableStream<Uint8Array>({
    async write(chunk) {
      await options.hash.update(chunk);
      if (fill === 0 && chunk.byteLength === chunkSize) {
        // Already one whole piece (the engine worker sends these): hand it on without copying.
        lastFlush = performance.now();
        await writer.ready;
        await writer.write(chunk);
        written += chunk.byteLength;
        options.onWritten?.(written);
        return;
      }
      for (let at = 0; at < chunk.byteLength; ) {
        const n = Math.min(chunkSize - fill, chunk.byteLength - at);
        buffer.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === chunkSize) await flush();
      }
      if (fill > 0 && performance.now() - lastFlush >= MAX_HOLD_MS) await flush();
    },
    async close() {
      try {
        await flush();
        await writer.close();
      } finally {
        done();
      }
    },
    async abort(reason) {
      done();
      await abortTarget(reason);
    },
  });
}
