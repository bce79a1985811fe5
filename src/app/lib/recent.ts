/** Recently downloaded image names (names only: never credentials), newest first. */
import { readStored, writeStored } from './storage.ts';

const MAX = 12;
const isList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

export function readRecent(): string[] {
  return (readStored('recent', isList) ?? []).slice(0, MAX);
}

export function rememberRecent(names: string[]): string[] {
  const next = [...new Set([...names, ...readRecent()])].slice(0, MAX);
  writeStored('recent', next);
  return next;
}
