/**
 * Manifests, indexes and image configs as they come from a registry: parsed, checked for shape (they are
 * outside input), and reduced to what the engine needs. Platform choice for an index lives here too.
 */
import { checkDigest } from './digest.ts';
import { SkiffError } from '../errors.ts';
import { isRecord } from '../json.ts';
import { MediaType, layerCompression } from './media-types.ts';
import { DEFAULT_PLATFORM, type Platform, formatPlatform, normalizePlatform, samePlatform } from './platform.ts';

/** Registries refuse manifests over 4 MiB; so do we, before parsing. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Far more than any real image (Docker's own storage stops near 125 layers). */
export const MAX_LAYERS = 1000;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  os: string;
  architecture: string;
  variant?: string;
  diffIds: string[];
  /** The runtime config (Entrypoint, Cmd, Env, …) and history, as the image states them, for display. */
  config: Record<string, unknown>;
  history: { created_by?: string; comment?: string; empty_layer?: boolean; created?: string }[];
  created?: string;
}

type Json = Record<string, unknown>;

function decodeJson(bytes: Uint8Array, what: string): Json {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new SkiffError(
      'too-large',
      `${what} is ${bytes.byteLength} bytes; refusing anything over ${MAX_MANIFEST_BYTES} bytes (4 MiB), as registries do`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SkiffError('bad-manifest', `${what} is not valid JSON`);
  }
  if (!isRecord(value)) throw new SkiffError('bad-manifest', `${what} is JSON but not an object`);
  return value;
}

function checkSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SkiffError(
      'bad-manifest',
      `${what} has an invalid size ${JSON.stringify(value)}: expected a whole number of bytes`,
    );
  }
  return value;
}

function checkStringMap(value: unknown, what: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new SkiffError('bad-manifest', `${what} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function parseDescriptor(value: unknown, what: string): Descriptor {
  if (!isRecord(value)) throw new SkiffError('bad-manifest', `${what} is not an object`);
  const { mediaType, urls, platform } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0 || mediaType.length > 255) {
    throw new SkiffError('bad-manifest', `${what} has no valid mediaType`);
  }
  const descriptor: Descriptor = {
    mediaType,
    digest: checkDigest(value.digest, what),
    size: checkSize(value.size, what),
  };
  if (urls !== undefined && urls !== null) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) {
      throw new SkiffError('bad-manifest', `${what} has invalid urls`);
    }
    descriptor.urls = urls;
  }
  const annotations = checkStringMap(value.annotations, `${what} annotations`);
  if (annotations) descriptor.annotations = annotations;
  if (platform !== undefined && platform !== null) {
    if (!isRecord(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') {
      throw new SkiffError('bad-manifest', `${what} has an invalid platform`);
    }
    descriptor.platform = {
      os: platform.os,
      architecture: platform.architecture,
      ...(typeof platform.variant === 'string' && platform.variant ? { variant: platform.variant } : {}),
    };
  }
  return descriptor;
}

/**
 * Parses a manifest or index. The Content-Type header decides the kind when it names one; otherwise the
 * document's own mediaType, and failing that its shape (OCI allows mediaType to be absent).
 * `anyLayerTypes`: blobs of any media type are accepted as layers (a copy moves attestations too, whose
 * "layers" are in-toto statements); otherwise a layer must be one Skiff can unpack.
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType?: string | null,
  { anyLayerTypes = false }: { anyLayerTypes?: boolean } = {},
): ImageManifest | ImageIndex {
  const json = decodeJson(bytes, 'The manifest');
  const headerType = contentType?.split(';')[0]?.trim().toLowerCase();
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const known = [
    MediaType.dockerManifest,
    MediaType.dockerManifestList,
    MediaType.ociManifest,
    MediaType.ociIndex,
  ] as string[];
  let mediaType = [headerType, declared].find((t) => t && known.includes(t));
  if (
    json.schemaVersion === 1 ||
    [headerType, declared].some((t) => t === MediaType.dockerSchema1 || t === MediaType.dockerSchema1Signed)
  ) {
    throw new SkiffError(
      'unsupported',
      'This image uses the deprecated Docker schema 1 manifest format, which Skiff does not read. Push it again with a current Docker or use a newer tag.',
    );
  }
  if (json.schemaVersion !== 2) {
    throw new SkiffError(
      'bad-manifest',
      `The manifest has schemaVersion ${JSON.stringify(json.schemaVersion)}; expected 2`,
    );
  }
  if (!mediaType) {
    if (declared)
      throw new SkiffError(
        'unsupported',
        `The manifest has media type "${declared.slice(0, 200)}", which is not an image manifest or index`,
      );
    if (Array.isArray(json.manifests)) mediaType = MediaType.ociIndex;
    else if (Array.isArray(json.layers)) mediaType = MediaType.ociManifest;
    else throw new SkiffError('bad-manifest', 'The manifest has neither layers nor manifests');
  }
  if (mediaType === MediaType.dockerManifestList || mediaType === MediaType.ociIndex) {
    if (!Array.isArray(json.manifests)) throw new SkiffError('bad-manifest', 'The index has no manifests array');
    if (json.manifests.length > MAX_LAYERS)
      throw new SkiffError(
        'bad-manifest',
        `The index lists ${json.manifests.length} manifests; refusing more than ${MAX_LAYERS}`,
      );
    return {
      kind: 'index',
      mediaType,
      manifests: json.manifests.map((m, i) => parseDescriptor(m, `Index entry ${i + 1}`)),
    };
  }
  if (!Array.isArray(json.layers)) throw new SkiffError('bad-manifest', 'The manifest has no layers array');
  if (json.layers.length > MAX_LAYERS) {
    throw new SkiffError(
      'bad-manifest',
      `The manifest lists ${json.layers.length} layers; refusing more than ${MAX_LAYERS}`,
    );
  }
  const config = parseDescriptor(json.config, 'The manifest config');
  const layers = json.layers.map((l, i) => parseDescriptor(l, `Layer ${i + 1}`));
  for (const [i, layer] of layers.entries()) {
    if (!anyLayerTypes && !layerCompression(layer.mediaType)) {
      throw new SkiffError(
        'unsupported',
        `Layer ${i + 1} (${layer.digest}) has media type "${layer.mediaType.slice(0, 200)}", which is not a layer type Skiff knows`,
      );
    }
  }
  return { kind: 'image', mediaType, config, layers };
}

export function parseConfig(bytes: Uint8Array): ImageConfig {
  const json = decodeJson(bytes, 'The image config');
  const rootfs = json.rootfs;
  if (!isRecord(rootfs) || !Array.isArray(rootfs.diff_ids)) {
    throw new SkiffError('bad-manifest', 'The image config has no rootfs.diff_ids: it is not a container image config');
  }
  const diffIds = rootfs.diff_ids.map((d, i) => checkDigest(d, `diff_id ${i + 1} of the image config`));
  const history = Array.isArray(json.history) ? json.history.filter(isRecord) : [];
  return {
    os: typeof json.os === 'string' ? json.os : '',
    architecture: typeof json.architecture === 'string' ? json.architecture : '',
    ...(typeof json.variant === 'string' && json.variant ? { variant: json.variant } : {}),
    diffIds,
    config: isRecord(json.config) ? json.config : {},
    history: history as ImageConfig['history'],
    ...(typeof json.created === 'string' ? { created: json.created } : {}),
  };
}

/** The diff_ids must pair one-to-one with the layers: docker load checks the same. */
export function checkLayersMatchConfig(manifest: ImageManifest, config: ImageConfig): void {
  if (manifest.layers.length !== config.diffIds.length) {
    throw new SkiffError(
      'bad-manifest',
      `The manifest lists ${manifest.layers.length} layers but the image config lists ${config.diffIds.length} diff_ids; the image is inconsistent`,
    );
  }
}

/** Entries of an index that are runnable images: attestations and other `unknown/unknown` entries are not. */
export function runnableEntries(index: ImageIndex): (Descriptor & { platform: Platform })[] {
  return index.manifests.filter((d): d is Descriptor & { platform: Platform } => {
    if (!d.platform || d.platform.os === 'unknown' || d.platform.architecture === 'unknown') return false;
    if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return false;
    return (
      d.mediaType === MediaType.dockerManifest ||
      d.mediaType === MediaType.ociManifest ||
      d.mediaType === MediaType.dockerManifestList ||
      d.mediaType === MediaType.ociIndex
    );
  });
}

/** Picks the entry for `wanted` (default linux/amd64); when none matches, the error lists what exists. */
export function choosePlatform(
  index: ImageIndex,
  wanted: Platform = DEFAULT_PLATFORM,
): Descriptor & { platform: Platform } {
  const entries = runnableEntries(index);
  const want = normalizePlatform(wanted);
  const match =
    entries.find((d) => samePlatform(d.platform, want)) ??
    // An arm entry without a variant serves any arm variant the caller asks for, as containerd allows.
    entries.find((d) => {
      const p = normalizePlatform(d.platform);
      return p.os === want.os && p.architecture === want.architecture && !d.platform.variant;
    });
  if (match) return match;
  const available = [...new Set(entries.map((d) => formatPlatform(normalizePlatform(d.platform))))];
  throw new SkiffError(
    'platform-not-found',
    available.length
      ? `No image for ${formatPlatform(want)} here. Available platforms: ${available.join(', ')}`
      : `No image for ${formatPlatform(want)} here: the index lists no runnable platforms`,
    { platforms: available },
  );
}
