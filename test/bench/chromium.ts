/** Chromium end-to-end contenders for the bench; they need the built web app (added with the page). */
import type { Contender } from './bench.ts';

export async function chromiumContenders(_ref: string, _registryUrl: string): Promise<Contender[]> {
  return [];
}
