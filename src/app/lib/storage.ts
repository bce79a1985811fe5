/**
 * localStorage behind try/catch: it throws in some privacy modes and when full, and a page that cannot
 * remember things must still work.
 */
const PREFIX = 'skiff.';

export function readStored<T>(key: string, check: (value: unknown) => value is T): T | undefined {
  try {
    const text = globalThis.localStorage?.getItem(PREFIX + key);
    if (text == null) return undefined;
    const value: unknown = JSON.parse(text);
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function writeStored(key: string, value: unknown): void {
  try {
    if (value === undefined) globalThis.localStorage?.removeItem(PREFIX + key);
    else globalThis.localStorage?.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // not remembered; nothing else depends on it
  }
}
