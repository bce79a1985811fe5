/**
 * The stream between the engine and the file: hashes every byte on the way when asked (the sha256 shown when done),
 * gathers the engine's small writes into large ones (saving through a service worker or a Blob is several
 * times faster with MiB-sized chunks) and keeps backpressure: each write resolves only when the file has
 * taken the previous chunk, so a slow disk slows the network instead of filling memory.
 */
import type { Sha256 } from '../../core/codecs/sha256.ts';
import { ChunkWriter } from '../../core/chunks.ts';

export const WRITE_CHUNK = 8 * 1024 * 1024;
/** Also hand over whatever is gathered after this long: the first bytes start the browser's download UI
 *  (Chromium shows a service-worker download only once data arrives), and a slow pull still shows progress. */
export const MAX_HOLD_MS = 1000;

export interface OutputOptions {
  /** Hashes every byte written (the file's sha256), when given. */
  hash?: Sha256;
  /** Cancel: aborts the file at once, even when a write is stuck behind a paused download. */
  signal?: AbortSignal;
  chunkSize?: number;
  /** Bytes handed to the file so far. */
  onWritten?: (bytes: number) => void;
}

export function outputStream(target: WritableStream<Uint8Array>, options: OutputOptions): WritableStream<Uint8Array> {
  const writer = target.getWriter();
  let written = 0;
  let aborted = false;

  const abortTarget = (reason: unknown) => {
    if (aborted) return Promise.resolve();
    aborted = true;
    return writer.abort(reason).catch(() => {});
  };
  const onAbort = () => void abortTarget(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => options.signal?.removeEventListener('abort', onAbort);

  const gathered = new ChunkWriter(
    async (out) => {
      await writer.ready;
      await writer.write(out);
      written += out.byteLength;
      options.onWritten?.(written);
    },
    options.chunkSize ?? WRITE_CHUNK,
    MAX_HOLD_MS,
  );

  return new WritableStream<Uint8Array>({
    async write(chunk) {
      await options.hash?.update(chunk);
      // Already one whole piece (the engine worker sends these, and gives them away): no copy.
      if (!(await gathered.passWhole(chunk))) await gathered.write(chunk);
    },
    async close() {
      try {
        await gathered.flush();
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
