/**
 * What a row of the list needs beyond the page's state: its look-up (a name with its platforms, a few rows at
 * once through the page's registry clients) and the small comparisons the list makes.
 */
import pLimit from 'p-limit';
import type { PlatformSelection } from '../../core/image/image-list.ts';
import { samePlatform } from '../../core/image/platform.ts';
import type { ImageReference } from '../../core/image/reference.ts';
import type { RegistryClients } from '../../core/registry/pool.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import { type ResolvedSet, resolveSet } from '../../core/registry/resolve-set.ts';

/** Rows resolved at once: a pasted list of 40 names must not open 40 look-ups (nor spend a quota at once). */
export const RESOLVE_AT_ONCE = 4;

/** The page's rows, resolved a few at a time, the others in the order they came. */
const rows = pLimit(RESOLVE_AT_ONCE);

/** A row's look-up: the name with its platforms, every selected platform's manifest and config verified. */
export function resolveRow(
  reference: ImageReference,
  platforms: PlatformSelection,
  clients: RegistryClients,
  signal: AbortSignal,
): Promise<ResolvedSet> {
  return rows(() => {
    signal.throwIfAborted();
    return resolveSet(reference, platforms, { clients, signal });
  });
}

/** The field's own look-up of one platform, as the set a row holds. */
export function setOf(image: ResolvedImage, platforms: PlatformSelection): ResolvedSet {
  return { reference: image.reference, selection: platforms, images: [image], artifacts: [] };
}

export function samePlatforms(a: PlatformSelection, b: PlatformSelection): boolean {
  if (a === 'all' || b === 'all') return a === b;
  return a.length === b.length && a.every((p) => b.some((q) => samePlatform(p, q)));
}
