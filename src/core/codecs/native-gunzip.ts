/**
 * A host's own gunzip, when it beats pako: the browser's `DecompressionStream` (about twice pako's speed
 * in Chromium, in C++), Node's zlib (on its thread pool, off the engine's thread). The engine stays free
 * of DOM and Node APIs: the host passes a factory (PullOptions.gunzip), and layers are inflated with pako
 * where it passes none. Such a stream may read one gzip member only (`DecompressionStream` errors on
 * what follows): the stage that drives it (transfer/native-inflate.ts) then carries on with pako.
 */

/** A fresh streaming gunzip: gzip bytes into `writable`, the inflated bytes out of `readable`. */
export interface NativeGunzipStream {
  writable: WritableStream<Uint8Array>;
  readable: ReadableStream<Uint8Array>;
  /**
   * Compressed bytes the stream used, read once its output has ended: a stream that stops quietly after
   * its data (zlib ignores zero padding) must say so, and the bytes it left are checked with pako.
   */
  consumed?: () => number;
  /**
   * The stream holds its output back until it is read, even within one write (Node's zlib does): input
   * needs no slicing. `DecompressionStream` inflates a whole write at once, so it is fed small slices.
   */
  paced?: boolean;
}

export interface NativeGunzip {
  (): NativeGunzipStream;
  /** Layers that inflate to this many times their blob or more (runs of zeros) stay on pako. */
  maxRatio?: number;
}

/**
 * The web platform's `DecompressionStream('gzip')`, where there is one. In Chromium it inflated zeros no
 * faster than pako, and it hands out a fresh buffer per 64 KiB where pako reuses one (~50 MB more memory
 * on a GiB of zeros): such layers stay on pako.
 */
export function webGunzip(): NativeGunzip | undefined {
  if (typeof DecompressionStream !== 'function') return undefined;
  return Object.assign(() => new DecompressionStream('gzip') as NativeGunzipStream, { maxRatio: 16 });
}

/** "skiff\n" gzipped (`printf 'skiff\n' | gzip -n`). */
const PROBE = new Uint8Array([
  0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x2b, 0xce, 0xce, 0x4c, 0x4b, 0xe3, 0x02, 0x00, 0xb4,
  0xb2, 0x90, 0x0b, 0x06, 0x00, 0x00, 0x00,
]);

/**
 * The native gunzip to use, or undefined for pako: a candidate is used only when it inflates a small
 * sample right (a browser whose stream is missing or broken keeps pako, slower but the same).
 */
export async function probedGunzip(candidate: NativeGunzip | undefined): Promise<NativeGunzip | undefined> {
  if (!candidate) return undefined;
  try {
    const stream = candidate();
    const writer = stream.writable.getWriter();
    void writer.write(PROBE).catch(() => {});
    void writer.close().catch(() => {});
    const parts: number[] = [];
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(...value);
    }
    return String.fromCharCode(...parts) === 'skiff\n' ? candidate : undefined;
  } catch {
    return undefined;
  }
}
