/**
 * Which images a download takes, every one resolved before a byte is written: the list's rows (stale ones
 * resolved again with today's settings) and the image in the field, with the platforms picked for it.
 */
import { formatPlatform } from '../../core/image/platform.ts';
import type { TransferredImage } from '../../core/pull.ts';
import { type ResolvedSet, resolveSet } from '../../core/registry/resolve-set.ts';
import { alerts } from './alerts.svelte.ts';
import { displayName } from './image-input.svelte.ts';
import { setOf } from './list-rows.ts';
import { type QueueItem, queue } from './queue.svelte.ts';
import { resolver } from './resolve.svelte.ts';
import { adviceAbout, currentTransportKey, registryClients } from './transport.ts';

/**
 * The rows to pull, or undefined when the download must not start: a row that did not resolve stops it,
 * named on the list (it is left out only when the person removes it), as does a field that did not resolve.
 */
export async function downloadItems(withField: boolean, signal: AbortSignal): Promise<QueueItem[] | undefined> {
  const listed = queue.items.length ? await queue.fresh(signal) : [];
  if (signal.aborted) return undefined;
  const problems = listed.filter((q) => q.status !== 'resolved');
  if (problems.length) {
    queue.refuse(problems);
    return undefined;
  }
  if (!withField) return listed;
  const reference = resolver.parsed.reference!;
  const selection = resolver.platformSelection;
  if (selection === 'all' || selection.length > 1) {
    try {
      const set = await resolveSet(reference, selection, { clients: registryClients(), signal });
      return [...listed, fieldItem(set)];
    } catch (error) {
      if (!signal.aborted) alerts.failure = adviceAbout(error, reference);
      return undefined;
    }
  }
  const image = await resolver.ensureResolved();
  if (!image || signal.aborted) return undefined;
  return [...listed, fieldItem(setOf(image, selection))];
}

/** The image in the field as a row of the download. */
export function fieldItem(set: ResolvedSet): QueueItem {
  return {
    id: 0,
    text: resolver.input.trim(),
    name: displayName(set.reference),
    reference: set.reference,
    platforms: resolver.platformSelection,
    status: 'resolved',
    resolved: set,
    transportKey: currentTransportKey(),
  };
}

/** The names the progress table gives its rows: a tar's by platform image, a kit's by its tars. */
export function progressNames(kind: 'tar' | 'zip', items: QueueItem[]): { name: string; platform: string }[] {
  const platforms = (q: QueueItem) => q.resolved!.images.map((image) => formatPlatform(image.platform));
  return kind === 'tar'
    ? items.flatMap((q) => platforms(q).map((platform) => ({ name: q.name, platform })))
    : items.map((q) => ({ name: q.name, platform: platforms(q).join(', ') }));
}

export interface ImageOnce {
  tags: string[];
  reference: string;
  platforms: string[];
  /** The image ID of the platform `docker load` tags (else the first). */
  id: string;
  /** The index the file holds for it, when it holds one. */
  index?: string;
}

/** The pulled images as Done lists them: each once, with its platforms (one entry per platform in the result). */
export function imagesOnce(images: TransferredImage[]): ImageOnce[] {
  const groups = new Map<string, ImageOnce>();
  for (const image of images) {
    const key = `${image.reference} ${image.indexDigest ?? image.configDigest}`;
    const group = groups.get(key);
    if (!group)
      groups.set(key, {
        tags: image.repoTags,
        reference: image.reference,
        platforms: [image.platform],
        id: image.configDigest,
        ...(image.indexDigest ? { index: image.indexDigest } : {}),
      });
    else {
      group.platforms.push(image.platform);
      if (image.repoTags.length) Object.assign(group, { tags: image.repoTags, id: image.configDigest });
    }
  }
  return [...groups.values()];
}
