/**
 * What a row of the list needs beyond the page's state: its look-up (a name with its platforms, a few rows at
 * once through the page's registry clients) and the small comparisons the list makes.
 */
import type { PlatformSelection } from '../../core/image/image-list.ts';
import { samePlatform } from '../../core/image/platform.ts';
import type { ImageReference } from '../../core/image/reference.ts';
import type { RegistryClients } from '../../core/registry/pool.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import { type ResolvedSet, resolveSet } from '../../core/registry/resolve-set.ts';

/** Rows resolved at once: a pasted list of 40 names must not open 40 look-ups (nor spend a quota at once). */
export const RESOLVE_AT_ONCE = 4;

/** Runs at most `limit` of the tasks given to it at once, the others in the order they came. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((go) => this.waiting.push(go));
    this.running++;
    try {
      signal?.throwIfAborted();
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get active(): number {
    return this.running;
  }
}

const rows = new Limiter(RESOLVE_AT_ONCE);

/** A row's look-up: the name with its platforms, every selected platform's manifest and config verified. */
export function resolveRow(
  reference: ImageReference,
  platforms: PlatformSelection,
  clients: RegistryClients,
  signal: AbortSignal,
): Promise<ResolvedSet> {
  return rows.run(() => resolveSet(reference, platforms, { clients, signal }), signal);
}

/** The field's own look-up of one platform, as the set a row holds. */
export function setOf(image: ResolvedImage, platforms: PlatformSelection): ResolvedSet {
  return { reference: image.reference, selection: platforms, images: [image], artifacts: [] };
}

export function samePlatforms(a: PlatformSelection, b: PlatformSelection): boolean {
  if (a === 'all' || b === 'all') return a === b;
  return a.length === b.length && a.every((p) => b.some((q) => samePlatform(p, q)));
}
