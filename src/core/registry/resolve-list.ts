/**
 * Resolving the names of a list at once, a few at a time: on a far link each name costs several round trips
 * (token, index, manifest, config), so one after another a list of 20 waits seconds before its first byte.
 * Every name ends with its set or its own failure, in the list's order, so every problem can be named at once.
 */
import pLimit from 'p-limit';
import { abortError } from '../errors.ts';
import type { PlatformSelection } from '../image/image-list.ts';
import type { ImageReference } from '../image/reference.ts';
import { RegistryClients } from './pool.ts';
import type { ResolveOptions } from './resolve.ts';
import { type ResolvedSet, resolveSet } from './resolve-set.ts';

/** Names resolved at once: each is a handful of small requests, and registries answer many in parallel. */
export const RESOLVE_CONCURRENCY = 8;

export type Resolution = { set: ResolvedSet } | { error: unknown };

export interface ListResolveOptions extends ResolveOptions {
  concurrency?: number;
  /** Each name as it ends, with its place in the list (for a list that shows rows as they resolve). */
  onResolved?: (index: number, resolution: Resolution) => void;
}

export async function resolveList(
  wanted: readonly { reference: ImageReference; selection: PlatformSelection }[],
  options: ListResolveOptions = {},
): Promise<Resolution[]> {
  const { concurrency = RESOLVE_CONCURRENCY, onResolved, ...resolveOptions } = options;
  // One client per registry for the whole list: a token per scope, asked once however many names share it.
  const clients = resolveOptions.clients ?? new RegistryClients(resolveOptions);
  const limit = pLimit(concurrency);
  const resolutions = await Promise.all(
    wanted.map((item, index) =>
      limit(async (): Promise<Resolution> => {
        let resolution: Resolution;
        try {
          resolution = { set: await resolveSet(item.reference, item.selection, { ...resolveOptions, clients }) };
        } catch (error) {
          resolution = { error };
        }
        onResolved?.(index, resolution);
        return resolution;
      }),
    ),
  );
  if (options.signal?.aborted) throw abortError(options.signal);
  return resolutions;
}

/** The sets of a list whose every name resolved; else the first failure, as a single pull reports it. */
export function setsOrFirstFailure(resolutions: readonly Resolution[]): ResolvedSet[] {
  return resolutions.map((r) => {
    if ('error' in r) throw r.error;
    return r.set;
  });
}
