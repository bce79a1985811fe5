import { createSHA256 } from 'hash-wasm';
import { SkiffError } from '../errors.ts';

/**
 * A streaming sha256. `update` may return a promise: a hasher on another thread asks the caller to wait
 * when too much is queued for it, so hashing never piles data up in memory.
 */
export interface Sha256 {
  update(chunk: Uint8Array): Promise<void> | void;
  /** `sha256:<hex>` */
  digest(): Promise<string>;
}

export type Sha256Factory = () => Promise<Sha256>;

/** In this thread, on hash-wasm (WASM, several times faster than pure JS; pages, workers and Node alike). */
export const createSha256: Sha256Factory = async () => {
  const hasher = await createSHA256();
  hasher.init();
  return {
    update: (chunk) => void hasher.update(chunk),
    digest: async () => `sha256:${hasher.digest('hex')}`,
  };
};

export async function sha256Of(bytes: Uint8Array): Promise<string> {
  const hash = await createSha256();
  await hash.update(bytes);
  return hash.digest();
}

export function verifyDigest(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new SkiffError(
      'digest-mismatch',
      `${what}: content digest is ${actual} but ${expected} was expected; the data was corrupted or tampered with`,
    );
  }
}
