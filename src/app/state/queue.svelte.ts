/** The archive queue: images added one by one, pulled together into one archive. */
import { formatReference } from '../../core/image/reference.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import { t } from '../i18n/index.svelte.ts';
import { alerts } from './alerts.svelte.ts';
import { displayName } from './image-input.svelte.ts';
import { resolver } from './resolve.svelte.ts';
import { adviceAbout, resolveWith } from './transport.ts';

export interface QueueItem {
  id: number;
  /** What the user typed, normalised (`docker.io/library/nginx:1.27`). */
  name: string;
  /** The platform the user chose explicitly ('' = the default). */
  platform: string;
  resolved: ResolvedImage;
  /** Transport settings it was resolved with: re-resolved at download time when they changed. */
  transportKey: string;
}

class ArchiveQueue {
  items = $state.raw<QueueItem[]>([]);
  private nextId = 1;

  /** An item for `image`, as named and picked in the field now. */
  itemFor(image: ResolvedImage, platform: string): QueueItem {
    return {
      id: this.nextId++,
      name: displayName(image.reference),
      platform,
      resolved: image,
      transportKey: resolver.transportKey,
    };
  }

  has(image: ResolvedImage): boolean {
    return this.items.some(
      (q) =>
        q.resolved.manifest.digest === image.manifest.digest &&
        formatReference(q.resolved.reference) === formatReference(image.reference),
    );
  }

  /**
   * Adds the image in the field as it is named now. Typing on right away must not lose it, so it resolves
   * on its own when the field's resolve is not (or no longer) about this name. True when it was added.
   */
  async addCurrent(): Promise<boolean> {
    const reference = resolver.parsed.reference;
    if (!reference) return false;
    const input = resolver.input;
    const platform = resolver.platformChoice;
    let image = resolver.resolvedFor(input, platform);
    if (!image) {
      try {
        image = await resolveWith(reference, platform);
      } catch (error) {
        alerts.failure = adviceAbout(error, reference);
        return false;
      }
    }
    if (this.has(image)) {
      alerts.notice = t().alreadyQueued;
      return false;
    }
    alerts.notice = undefined;
    this.items = [...this.items, this.itemFor(image, platform)];
    // Ready for the next name, unless the user already started typing it.
    if (resolver.input === input) resolver.clear();
    return true;
  }

  remove(id: number): void {
    this.items = this.items.filter((q) => q.id !== id);
  }

  clear(): void {
    this.items = [];
  }

  /** The queue with every item resolved with today's settings (items resolved with older ones again). */
  async fresh(signal: AbortSignal): Promise<QueueItem[]> {
    const key = resolver.transportKey;
    const items: QueueItem[] = [];
    for (const item of this.items) {
      if (item.transportKey === key) {
        items.push(item);
        continue;
      }
      const resolved = await resolveWith(item.resolved.reference, item.platform, signal);
      items.push({ ...item, resolved, transportKey: key });
    }
    this.items = items;
    return items;
  }
}

export const queue = new ArchiveQueue();
