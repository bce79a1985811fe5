/**
 * The inflate stage on a host's own gunzip (codecs/native-gunzip.ts), with pako to carry on where the
 * native stream stops: `DecompressionStream` reads one gzip member and errors on anything after it
 * (eStargz layers are many members; `cat a.gz b.gz` is legal), and a corrupt or cut layer errors too.
 * Whatever the native stream gave up on, pako takes over exactly there: it inflates the layer again from
 * its first byte (`restart`, fetched once more) up to where the native stream was fed, hands on only what
 * comes after the bytes already handed on, then takes the rest of the input. Nothing is lost or doubled,
 * as both inflate the same bytes to the same output; a layer that is truly bad fails with pako's message.
 */
import { GunzipDecoder } from '../codecs/gunzip.ts';
import type { NativeGunzip } from '../codecs/native-gunzip.ts';
import { SkiffError } from '../errors.ts';
import type { Stage } from './stages.ts';

export interface NativeInflate {
  gunzip: NativeGunzip;
  /** The same compressed bytes again from the first one, for pako to take over. */
  restart: () => AsyncIterable<Uint8Array>;
}

/**
 * Input is fed in slices sized so each inflates to about SLICE_OUTPUT: a native stream inflates a whole
 * slice at once, and deflate reaches 1032:1 (a KiB of zeros, a MiB out). A slice starts small and grows
 * as the ratio shows; MAX_SLICE bounds what a sudden run of zeros can make at once (~32 MiB).
 */
const SLICE_OUTPUT = 1024 * 1024;
const MAX_SLICE = 32 * 1024;
const MIN_SLICE = 1024;

export function nativeInflateStage(native: NativeInflate, what: string, next: Stage[]): Stage {
  const stream = native.gunzip();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  /** Compressed bytes given to the native stream, and inflated bytes handed on from it. */
  let fed = 0;
  let delivered = 0;
  let nativeFailed = false;
  /** A later stage's error: it ends the copy, no fallback. */
  let stageError: { error: unknown } | undefined;
  let pako: GunzipDecoder | undefined;
  /** Inflated bytes pako makes again that were already handed on. */
  let skip = 0;
  let sliceSize = MIN_SLICE;
  let deliveredBefore = 0;

  const handOn = async (piece: Uint8Array) => {
    for (const stage of next) await stage.push(piece);
  };
  // Reads the native output as it comes, handing each piece on before the next is read.
  const pumped = (async () => {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch {
        nativeFailed = true;
        return;
      }
      if (read.done) return;
      try {
        await handOn(read.value);
        delivered += read.value.byteLength;
      } catch (error) {
        stageError = { error };
        void reader.cancel(error).catch(() => {});
        void writer.abort(error).catch(() => {});
        return;
      }
    }
  })();

  const check = () => {
    if (stageError) throw stageError.error;
  };
  const fromPako = async (pieces: Iterable<Uint8Array>) => {
    for (const piece of pieces) {
      if (skip >= piece.byteLength) {
        skip -= piece.byteLength;
        continue;
      }
      const rest = skip > 0 ? piece.subarray(skip) : piece;
      skip = 0;
      await handOn(rest);
    }
  };
  /** pako inflates the layer again up to where the native stream was fed, and carries on from there. */
  const takeOver = async () => {
    void reader.cancel().catch(() => {});
    void writer.abort().catch(() => {});
    await pumped;
    check();
    pako = new GunzipDecoder(what, { reuseOutput: true });
    skip = delivered;
    let replayed = 0;
    for await (const chunk of native.restart()) {
      const part = chunk.subarray(0, fed - replayed);
      replayed += part.byteLength;
      await fromPako(pako.push(part));
      if (replayed === fed) break;
    }
    if (replayed < fed)
      throw new SkiffError('network', `${what}: fetched again, it came back shorter than the first time`);
  };
  /** Feeds the native stream in slices sized so that each inflates to about SLICE_OUTPUT. */
  const feed = async (chunk: Uint8Array): Promise<number> => {
    let at = 0;
    while (at < chunk.byteLength && !nativeFailed) {
      check();
      // The output seen lags the input by a slice or two: grow twofold at most, and only once output came back.
      const ratio = fed > 0 ? Math.max(1, delivered / fed) : 1;
      const grown = delivered > deliveredBefore ? sliceSize * 2 : sliceSize;
      deliveredBefore = delivered;
      sliceSize = stream.paced
        ? chunk.byteLength
        : Math.max(MIN_SLICE, Math.min(MAX_SLICE, grown, Math.floor(SLICE_OUTPUT / ratio)));
      const slice = chunk.subarray(at, at + sliceSize);
      try {
        await writer.ready;
      } catch {
        nativeFailed = true;
        break;
      }
      check();
      fed += slice.byteLength;
      at += slice.byteLength;
      writer.write(slice).catch(() => void (nativeFailed = true));
    }
    return at;
  };

  return {
    push: async (chunk) => {
      check();
      if (!pako) {
        const taken = await feed(chunk);
        check();
        if (!nativeFailed) return;
        await takeOver();
        chunk = chunk.subarray(taken);
      }
      await fromPako(pako!.push(chunk));
    },
    drain: async () => {
      check();
      if (!pako) {
        if (!nativeFailed) await writer.close().catch(() => void (nativeFailed = true));
        await pumped;
        check();
        // A stream that ended before all its input (zlib stops quietly at zero padding): pako judges the rest.
        if (!nativeFailed && stream.consumed && stream.consumed() !== fed) nativeFailed = true;
        if (nativeFailed) await takeOver();
      }
      if (pako) await fromPako(pako.finish());
      for (const stage of next) await stage.drain?.();
    },
    verify: async () => {
      for (const stage of next) await stage.verify?.();
    },
  };
}
