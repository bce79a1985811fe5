/**
 * sha256 on Node's OpenSSL, for a push from the CLI: it uses the CPU's SHA instructions where there are
 * some, several times faster than the engine's WASM hasher, so hashing a GB layer on the main thread
 * costs a fraction of what compressing it does.
 */
import { createHash } from 'node:crypto';
import type { Sha256Factory } from '../core/codecs/sha256.ts';

export const nodeSha256: Sha256Factory = async () => {
  const hash = createHash('sha256');
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => `sha256:${hash.digest('hex')}`,
  };
};
