/**
 * The image name in the field, parsed as docker would read it, and the platform picked for it; the address
 * bar mirrors both (`?image=…&platform=…`) so the page's address is a link to share.
 */
import {
  type PlatformSelection,
  formatPlatformSelection,
  parsePlatformSelection,
} from '../../core/image/image-list.ts';
import { formatPlatform } from '../../core/image/platform.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from '../../core/image/reference.ts';

/** The name as people write it: `nginx:1.27` for Hub images, the full host otherwise. */
export function displayName(reference: ImageReference): string {
  let name = familiarName(reference);
  if (reference.tag !== undefined) name += `:${reference.tag}`;
  if (reference.digest !== undefined) name += `@${reference.digest}`;
  return name;
}

/**
 * Whether the field holds a name a person may have finished: not a registry host still waiting for its
 * repository (`127.0.0.1`, `127.0.0.1:5000`, `ghcr.io`), which docker would read as a Docker Hub name.
 */
export function looksComplete(input: string): boolean {
  const text = input.trim();
  if (!text || /[/:.@_-]$/.test(text)) return false;
  if (text.includes('/')) return true;
  const name = text.split(/[:@]/)[0]!;
  return !name.includes('.') && name !== 'localhost' && !/^\d+$/.test(name);
}

/** The field and the platform pick; the resolver (resolve.svelte.ts) builds on it. */
export class ImageInput {
  input = $state('');
  /**
   * The platforms picked, and the image they were picked for (`formatReference`): they apply to that image
   * only. `platform` is written as the list and the link write it: `linux/arm64`, `linux/amd64,linux/arm64`, `all`.
   */
  platformPick = $state.raw<{ image: string; platform: string } | undefined>(undefined);

  /** The input parsed as docker would read it, or the engine's message saying why not. */
  parsed: { reference?: ImageReference; error?: string } = $derived.by(() => {
    if (!this.input.trim()) return {};
    try {
      return { reference: parseReference(this.input) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  });

  /** The platforms picked for the image in the field, as written ('' = the default). */
  platformText: string = $derived.by(() => {
    const pick = this.platformPick;
    const reference = this.parsed.reference;
    return pick && reference && pick.image === formatReference(reference) ? pick.platform : '';
  });

  /** The platforms picked for the image in the field ([] = the default). */
  platformSelection: PlatformSelection = $derived.by(() => {
    try {
      return this.platformText ? parsePlatformSelection(this.platformText) : [];
    } catch {
      return [];
    }
  });

  /**
   * The one platform the field's image is looked up for ('' = default linux/amd64 for an index, whatever a
   * single image is). With several or all picked, the details show the default one.
   */
  platformChoice: string = $derived.by(() => {
    const selection = this.platformSelection;
    return selection !== 'all' && selection.length === 1 ? formatPlatform(selection[0]!) : '';
  });

  /** The image of a shared link (`?image=…&platform=…`), taking the link's platform pick along. */
  protected readLink(): string | null {
    const params = new URLSearchParams(globalThis.location?.search ?? '');
    const image = params.get('image');
    const platform = params.get('platform');
    if (image && platform) {
      try {
        // The link's platform belongs to the link's image only.
        this.platformPick = {
          image: formatReference(parseReference(image)),
          platform: formatPlatformSelection(parsePlatformSelection(platform)),
        };
      } catch {
        // a broken platform (or name) in a link is ignored; the default applies
      }
    }
    return image;
  }

  /** `?image=…&platform=…` always describes the form, so the address bar is a link to share (never credentials). */
  protected updateAddressBar(): void {
    if (typeof history === 'undefined') return;
    const url = new URL(location.href);
    url.search = '';
    if (this.input.trim()) url.searchParams.set('image', this.input.trim());
    if (this.platformText) url.searchParams.set('platform', this.platformText);
    if (url.href !== location.href) history.replaceState(null, '', url.href);
  }

  shareLink(): string {
    this.updateAddressBar();
    return location.href;
  }
}
