/** File names for archives and for the tars inside an offline kit. */
import { DEFAULT_PLATFORM, formatPlatform, type Platform, samePlatform } from '../../core/image/platform.ts';
import { familiarName, type ImageReference } from '../../core/image/reference.ts';

/** Letters, digits, `.`, `_`, `-` only: safe in every file system and in the load scripts. */
export function safeName(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
  return cleaned.slice(0, 120) || 'image';
}

/** `nginx_1.27`, `ghcr.io_owner_app_v1_linux-arm64`: the image's short name, its tag (or digest) and a non-default platform. */
export function imageFileStem(reference: ImageReference, platform: Platform, platformWasChosen: boolean): string {
  const name = familiarName(reference).replace(/\//g, '_');
  const version = reference.tag ?? reference.digest?.replace(/^sha256:/, '').slice(0, 12) ?? 'latest';
  const suffix =
    platformWasChosen && !samePlatform(platform, DEFAULT_PLATFORM)
      ? `_${formatPlatform(platform).replace(/\//g, '-')}`
      : '';
  return safeName(`${name}_${version}${suffix}`);
}

/** The archive's name: the user's fixed name if set, else the image's stem, else `images-N`. */
export function archiveName(stems: string[], fixed: string, kind: 'tar' | 'zip'): string {
  const extension = `.${kind}`;
  if (fixed.trim()) {
    // Control characters are exactly what a file name must not carry.
    // eslint-disable-next-line no-control-regex
    const base = fixed.trim().replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_');
    return base.toLowerCase().endsWith(extension) ? base : `${base.replace(/\.(tar|zip)$/i, '')}${extension}`;
  }
  const stem = stems.length === 1 ? stems[0]! : `images-${stems.length}`;
  return `${stem}${extension}`;
}

/** Distinct names: a second `app_v1.tar` becomes `app_v1-2.tar`. */
export function uniqueNames(stems: string[], extension: string): string[] {
  const seen = new Map<string, number>();
  return stems.map((stem) => {
    const count = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, count);
    return `${count === 1 ? stem : `${stem}-${count}`}${extension}`;
  });
}
