/** How large the file will be, before it is written: counted by the code that writes it. */
import type { LayerMode } from '../../core/pull.ts';
import { type ArchiveSize, archiveSize } from '../../core/archive/size.ts';
import { kitSize } from '../../core/pull.ts';
import { imageFileStem, uniqueNames } from '../lib/names.ts';
import type { QueueItem } from './queue.svelte.ts';

export type ArchiveKind = 'tar' | 'zip';

export interface EstimateInput {
  kind: ArchiveKind;
  items: QueueItem[];
  layers: LayerMode;
  inflatedSizes: Record<string, number>;
}

/**
 * About how large the file will be: counted by the code that writes it (archiveSize, kitSize), blob
 * contents left out; exact unless an inflated layer's size is not known yet (it is counted as served).
 */
export async function estimateSize(input: EstimateInput): Promise<ArchiveSize> {
  const images = input.items.map((q) => q.resolved);
  if (input.kind === 'tar') return archiveSize(images, input.layers, input.inflatedSizes);
  const names = uniqueNames(input.items.map(stemOf), '.tar');
  const items = images.map((image, i) => ({ image, tarName: names[i]! }));
  return kitSize(items, input.layers, input.inflatedSizes);
}

export const stemOf = (q: QueueItem) => imageFileStem(q.resolved.reference, q.resolved.platform, q.platform !== '');
