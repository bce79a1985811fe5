/**
 * The image name in the field, parsed as docker would read it, and the platform picked for it; the address
 * bar mirrors both (`?image=…&platform=…`) so the page's address is a link to share.
 */
import { formatPlatform, parsePlatform } from '../../core/image/platform.ts';
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
  /** The platform picked, and the image it was picked for (`formatReference`): it applies to that image only. */
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

  /** Explicit platform of the image in the field ('' = default linux/amd64 for an index, whatever a single image is). */
  platformChoice: string = $derived.by(() => {
    const pick = this.platformPick;
    const reference = this.parsed.reference;
    return pick && reference && pick.image === formatReference(reference) ? pick.platform : '';
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
          platform: formatPlatform(parsePlatform(platform)),
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
    if (this.platformChoice) url.searchParams.set('platform', this.platformChoice);
    if (url.href !== location.href) history.replaceState(null, '', url.href);
  }

  shareLink(): string {
    this.updateAddressBar();
    return location.href;
  }
}
