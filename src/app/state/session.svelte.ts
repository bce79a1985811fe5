/**
 * The page's state in one place for the components: the image being typed (resolve.svelte.ts), the archive
 * queue (queue.svelte.ts), the download (download.svelte.ts) and what the alert shows (alerts.svelte.ts).
 * Only actions that span those concepts live here.
 */
import type { Advice } from '../lib/advice.ts';
import { alerts } from './alerts.svelte.ts';
import { download } from './download.svelte.ts';
import { queue } from './queue.svelte.ts';
import { resolver } from './resolve.svelte.ts';

export type { ArchiveKind, Done, LayerRow, Running } from './download.svelte.ts';
export type { QueueItem } from './queue.svelte.ts';
export { displayName } from './image-input.svelte.ts';
export { alerts, download, queue, resolver };

class Session {
  get failure(): Advice | undefined {
    return alerts.failure;
  }

  init(): void {
    download.init();
    resolver.init();
  }

  /** A new name in the field: the last result is about another image. */
  setInput(text: string, options: { immediate?: boolean } = {}): void {
    download.done = undefined;
    resolver.setInput(text, options);
  }

  setPlatform(value: string): void {
    resolver.setPlatform(value);
  }

  useTag(tag: string): void {
    download.done = undefined;
    resolver.useTag(tag);
  }
}

export const session = new Session();
