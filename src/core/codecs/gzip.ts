/**
 * gzip-compresses a stream of chunks. The runtime's own `CompressionStream` (zlib in Node and in every
 * current browser) where it exists: measured here it compresses 2–3× faster than pako, which is what a push
 * of an uncompressed layer waits on. pako where it is missing, or when a level other than zlib's default
 * (6, the level CompressionStream uses) is asked for.
 */
import { Deflate } from 'pako';

const ZLIB_DEFAULT_LEVEL = 6;

/**
 * A gzip compressor for a stream of chunks: what the engine uses for a layer gzipped on the way. The host
 * may give one of its own (the CLI gives a parallel one over Node's zlib, src/cli/parallel-gzip.ts).
 */
export type Gzip = (source: AsyncIterable<Uint8Array>, level?: number) => AsyncIterable<Uint8Array>;

export async function* gzipChunks(
  source: AsyncIterable<Uint8Array>,
  level = ZLIB_DEFAULT_LEVEL,
): AsyncGenerator<Uint8Array> {
  if (typeof CompressionStream === 'function' && level === ZLIB_DEFAULT_LEVEL) yield* nativeGzip(source);
  else yield* pakoGzip(source, level);
}

async function* nativeGzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const stream = new CompressionStream('gzip');
  const writer = stream.writable.getWriter();
  // The source's own failure (a short file, a cancel) is what the caller must see, not the stream's abort.
  let failure: { error: unknown } | undefined;
  const pump = (async () => {
    try {
      // Chunks come from files and decoders, never from a SharedArrayBuffer.
      for await (const chunk of source) await writer.write(chunk as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (error) {
      failure ??= { error };
      await writer.abort(error).catch(() => {});
    }
  })();
  const reader = stream.readable.getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        await pump;
        throw failure ? failure.error : error;
      }
      if (next.done) break;
      yield next.value;
    }
    await pump;
    if (failure) throw failure.error;
  } finally {
    // Stopped early (the upload failed): cancelling the output makes the pump's next write fail, which
    // ends the source's loop and so releases whatever it reads from.
    await reader.cancel().catch(() => {});
    await pump;
  }
}

async function* pakoGzip(source: AsyncIterable<Uint8Array>, level: number): AsyncGenerator<Uint8Array> {
  const deflate = new Deflate({ gzip: true, level: level as 6, chunkSize: 2 ** 20 });
  let pending: Uint8Array[] = [];
  deflate.onData = (chunk) => void pending.push(chunk);
  const drain = () => {
    const out = pending;
    pending = [];
    return out;
  };
  for await (const chunk of source) {
    deflate.push(chunk, false);
    yield* drain();
  }
  deflate.push(new Uint8Array(0), true);
  yield* drain();
}
