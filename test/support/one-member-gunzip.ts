/**
 * A native gunzip that behaves as Chromium's `DecompressionStream('gzip')` does: it inflates one gzip
 * member and errors ("Junk found after end of compressed data") on any byte after it, padding included.
 * Node's own `DecompressionStream` reads every member, so the engine's fallback to pako needs this to be
 * exercised outside a browser. Built on the engine's pako decoder, which reports where a member ends.
 */
import { GunzipDecoder } from '../../src/core/codecs/gunzip.ts';
import type { NativeGunzip } from '../../src/core/codecs/native-gunzip.ts';

export const oneMemberGunzip: NativeGunzip = () => {
  const decoder = new GunzipDecoder('one member');
  const junk = () => new TypeError('Junk found after end of compressed data.');
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const out of decoder.push(chunk)) {
        if (decoder.multiMember) throw junk();
        controller.enqueue(out);
      }
      // The decoder takes zero padding after the last member quietly; Chromium does not.
      if (decoder.multiMember || decoder.padded) throw junk();
    },
    flush(controller) {
      for (const out of decoder.finish()) controller.enqueue(out);
    },
  });
};
