/** How large the file will be, before it is written: counted by the code that writes it. */
import type { LayerMode } from '../../core/pull.ts';
import { type ArchiveSize, archiveSize } from '../../core/archive/size.ts';
import { DEFAULT_PLATFORM } from '../../core/image/platform.ts';
import { kitSize } from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import type { ResolvedSet } from '../../core/registry/resolve-set.ts';
import { imageFileStem, uniqueNames } from '../lib/names.ts';
import type { QueueItem } from './queue.svelte.ts';

export type ArchiveKind = 'tar' | 'zip';

export interface EstimateInput {
  kind: ArchiveKind;
  /** Resolved rows only (an estimate waits for every row). */
  items: QueueItem[];
  layers: LayerMode;
  inflatedSizes: Record<string, number>;
}

/**
 * About how large the file will be: counted by the code that writes it (archiveSize, kitSize), blob
 * contents left out; exact unless an inflated layer's size is not known yet (it is counted as served).
 */
export async function estimateSize(input: EstimateInput): Promise<ArchiveSize> {
  const sets = input.items.flatMap((q) => (q.resolved ? [q.resolved] : []));
  if (input.kind === 'tar')
    return archiveSize(
      sets.flatMap((set) => set.images),
      input.layers,
      input.inflatedSizes,
    );
  const names = uniqueNames(input.items.map(stemOf), '.tar');
  const items = sets.map((set, i) => ({ image: jobImage(set), tarName: names[i]! }));
  return kitSize(items, input.layers, input.inflatedSizes);
}

/** A row's file name stem: `nginx_1.27`, with the platform when one other than the default was asked for. */
export const stemOf = (q: QueueItem): string => {
  const reference = q.resolved?.reference ?? q.reference;
  if (!reference) return 'image';
  const one = q.platforms !== 'all' && q.platforms.length <= 1;
  const asked = q.platforms !== 'all' ? q.platforms[0] : undefined;
  const platform = q.resolved?.images[0]?.platform ?? asked ?? DEFAULT_PLATFORM;
  return imageFileStem(reference, one ? platform : DEFAULT_PLATFORM, one && q.platforms.length === 1);
};

/** What the engine is given for a row: its image, or its set when it carries an index. */
export function jobImage(set: ResolvedSet): ResolvedImage | ResolvedSet {
  return set.index || set.images.length !== 1 ? set : set.images[0]!;
}
