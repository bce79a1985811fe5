import { createSHA256 } from 'hash-wasm';
import { SkiffError } from '../errors.ts';

/** A streaming sha256 (hash-wasm: WASM, several times faster than pure JS, works in pages, workers and Node). */
export interface Sha256 {
  update(chunk: Uint8Array): void;
  /** `sha256:<hex>` */
  digest(): string;
}

export async function createSha256(): Promise<Sha256> {
  const hasher = await createSHA256();
  hasher.init();
  return {
    update: (chunk) => void hasher.update(chunk),
    digest: () => `sha256:${hasher.digest('hex')}`,
  };
}

export async function sha256Of(bytes: Uint8Array): Promise<string> {
  const hash = await createSha256();
  hash.update(bytes);
  return hash.digest();
}

export function verifyDigest(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new SkiffError('digest-mismatch', `${what}: content digest is ${actual} but ${expected} was expected; the data was corrupted or tampered with`);
  }
}
