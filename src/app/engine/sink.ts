/**
 * The stream between the engine and the file: hashes every byte on the way when asked (the sha256 shown when done),
 * gathers the engine's small writes into large ones (saving through a service worker or a Blob is several
 * times faster with MiB-sized chunks) and keeps backpressure: each write resolves only when the file has
 * taken the previous chunk, so a slow disk slows the network instead of filling memory.
 */
import type { Sha256 } from '../../core/codecs/sha256.ts';
import { ChunkWriter } from '../../core/archive/chunks.ts';

export const WRITE_CHUNK = 8 * 1024 * 1024;
/** Also hand over whatever is gathered after this long: the first bytes start the browser's download UI
 *  (Chromium shows a service-worker download only once data arrives), and a slow pull still shows progress. */
export const MAX_HOLD_MS = 1000;

/** How long one write may wait for the browser to take it, unless the host's config.json says otherwise. */
export const DEFAULT_WRITE_TIMEOUT_MS = 120_000;

/**
 * The browser stopped taking the file: a write did not settle in time (Firefox may stop the download's
 * service worker mid-stream and then show the partial file as finished). The download is ended so the page
 * says the file in Downloads is incomplete instead of waiting forever.
 */
export class FileStalledError extends Error {
  override readonly name = 'FileStalledError';
  constructor(
    readonly seconds: number,
    readonly written: number,
  ) {
    super(`The browser took no data for ${seconds} s after ${written} bytes of the file; the download was ended.`);
  }
}

/** More or fewer bytes than the size the file was announced with (a bug: the download would be cut or fail). */
export class FileSizeError extends Error {
  override readonly name = 'FileSizeError';
}

type GiveBack = (written: Uint8Array) => Uint8Array | undefined;
const givesBack = new WeakMap<WritableStream<Uint8Array>, GiveBack>();

/**
 * Says which buffer a file stream is done with once a write settles, so that it can be filled again: the
 * written chunk itself for a stream that copies the bytes (File System Access, a Blob), the one the service
 * worker gave back for the download's stream (stream-save.ts). Streams without it keep what they are given.
 */
export function withBuffersBack(stream: WritableStream<Uint8Array>, giveBack: GiveBack): WritableStream<Uint8Array> {
  givesBack.set(stream, giveBack);
  return stream;
}

export const copying = (stream: WritableStream<Uint8Array>) => withBuffersBack(stream, (written) => written);

/** After a write of `written` into `stream` settled: a buffer free to be filled again, if the stream has one. */
export function bufferBack(stream: WritableStream<Uint8Array>, written: Uint8Array): Uint8Array | undefined {
  return givesBack.get(stream)?.(written);
}

export interface OutputOptions {
  /** Hashes every byte written (the file's sha256), when given. */
  hash?: Sha256;
  /** Cancel: aborts the file at once, even when a write is stuck behind a paused download. */
  signal?: AbortSignal;
  chunkSize?: number;
  /** Bytes handed to the file so far. */
  onWritten?: (bytes: number) => void;
  /** A write (or the close) that has not settled after this long ends the download (FileStalledError). */
  writeTimeoutMs?: number;
  /** The size the file was announced with: a different total aborts it rather than finish it. */
  expectedSize?: number;
}

export function outputStream(target: WritableStream<Uint8Array>, options: OutputOptions): WritableStream<Uint8Array> {
  const writer = target.getWriter();
  let written = 0;
  /** The buffer the last write left free to fill again. */
  let free: Uint8Array | undefined;
  let aborted = false;

  const abortTarget = (reason: unknown) => {
    if (aborted) return Promise.resolve();
    aborted = true;
    return writer.abort(reason).catch(() => {});
  };
  const onAbort = () => void abortTarget(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => options.signal?.removeEventListener('abort', onAbort);

  /** A failed write errors this stream, which then never calls abort(): the file is aborted here. */
  const refuse = (error: Error): never => {
    void abortTarget(error);
    throw error;
  };

  const timeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  /** `step` must settle within the write time-out; otherwise the file is aborted and the write fails. */
  const watched = async (step: () => Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new FileStalledError(Math.round(timeoutMs / 1000), written);
        void abortTarget(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      await Promise.race([step(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  };

  const gathered = new ChunkWriter(
    async (out) => {
      if (options.expectedSize !== undefined && written + out.byteLength > options.expectedSize)
        refuse(new FileSizeError(`The file grew past the ${options.expectedSize} bytes it was announced with`));
      // Read before the write: a stream may transfer the buffer away.
      const bytes = out.byteLength;
      await watched(async () => {
        await writer.ready;
        await writer.write(out);
      });
      written += bytes;
      options.onWritten?.(written);
    },
    options.chunkSize ?? WRITE_CHUNK,
    MAX_HOLD_MS,
  );

  const output = new WritableStream<Uint8Array>({
    async write(chunk) {
      await options.hash?.update(chunk);
      // Already one whole piece (the engine worker sends these, and gives them away): no copy.
      if (await gathered.passWhole(chunk)) free = bufferBack(target, chunk);
      else {
        await gathered.write(chunk);
        free = chunk;
      }
    },
    async close() {
      try {
        await gathered.flush();
        if (options.expectedSize !== undefined && written !== options.expectedSize)
          refuse(
            new FileSizeError(
              `The file ended at ${written} bytes, not the ${options.expectedSize} it was announced with`,
            ),
          );
        await watched(() => writer.close());
      } finally {
        done();
      }
    },
    async abort(reason) {
      done();
      await abortTarget(reason);
    },
  });
  // Hashing copies what it is given; a chunk passed whole is free once the file is done with it.
  if (!givesBack.has(target)) return output;
  return withBuffersBack(output, () => {
    const buffer = free;
    free = undefined;
    return buffer;
  });
}
