/**
 * A file on disk as the archive reader's RandomAccessBlob, read in 1 MiB pieces at the asked offsets: far
 * fewer, bigger chunks than Node's `openAsBlob().stream()` (64 KiB each), so a GB layer costs the push
 * less time in stream plumbing and garbage collection. One piece is read ahead of the reader.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { RandomAccessBlob } from '../core/archive/random-access.ts';

const PIECE_BYTES = 1 << 20;

/** Opens `path`; `close()` once every stream of it is done. */
export async function openFileBlob(path: string): Promise<RandomAccessBlob & { close(): Promise<void> }> {
  const handle: FileHandle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    slice(start, end) {
      let at = Math.max(0, start);
      const stop = Math.min(end, size);
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (at >= stop) return controller.close();
            const want = Math.min(PIECE_BYTES, stop - at);
            // Not zeroed first: every byte is read over (a short read hands on only what was read).
            const piece = new Uint8Array(Buffer.allocUnsafeSlow(want).buffer, 0, want);
            const { bytesRead } = await handle.read(piece, 0, want, at);
            if (bytesRead === 0) return controller.close(); // the file got shorter: the reader's checks say so
            at += bytesRead;
            controller.enqueue(bytesRead === want ? piece : piece.subarray(0, bytesRead));
          },
        },
        { highWaterMark: 1 },
      );
    },
    close: () => handle.close(),
  };
}
