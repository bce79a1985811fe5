import { SkiffError } from '../errors.ts';

const SHA256 = /^sha256:[a-f0-9]{64}$/;

/**
 * Checks a digest that came from outside (a manifest, a header, a user) before it is used in a URL or a
 * file name: only `sha256:` + 64 lowercase hex is accepted, so `sha256:../../x` can never become a path.
 */
export function checkDigest(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SHA256.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : String(value);
    throw new SkiffError(
      'bad-manifest',
      `${what} has an invalid digest ${shown}: expected sha256: and 64 lowercase hex digits`,
    );
  }
  return value;
}

export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}
