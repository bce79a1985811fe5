/**
 * Push: the images of an archive (archive/reader.ts) into registries — one by one to named targets
 * (pushArchive), or the whole archive as a set (pushSet): each image, or each index with all it names, to
 * its own target or under one prefix, skipping what the registry holds already — the archive as the source
 * (transfer/archive-source.ts), the registry as the destination (transfer/registry-destination.ts), moved
 * by the one transfer into a registry (transfer/to-registry.ts). Nothing is tagged unless every layer of
 * every image passed its checks.
 */
import type { ArchiveContents } from './archive/reader.ts';
import type { Sha256Factory } from './codecs/sha256.ts';
import { SkiffError } from './errors.ts';
import { parsePushTarget, planTargets } from './transfer/targets.ts';
import { formatPlatform } from './image/platform.ts';
import { RegistryClients } from './registry/pool.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { archiveImage, archiveRawImage, keepsManifest } from './transfer/archive-source.ts';
import { type SetOptions, type SetResult, type SetUnit, setToRegistry } from './transfer/set-to-registry.ts';
import { RegistryDestination } from './transfer/registry-destination.ts';
import { toRegistry } from './transfer/to-registry.ts';
import type { TransferProgress, TransferResult } from './transfer/types.ts';

export interface PushOptions extends TransportOptions {
  signal?: AbortSignal;
  /** Gzip uncompressed layers on the way (default true, like `docker push`); false pushes them as they are. */
  compress?: boolean;
  /** gzip level for that (default 6, zlib's own; the runtime's CompressionStream does it, others go through pako). */
  gzipLevel?: number;
  /** Upload chunk size (default 4 MiB: GHCR refuses more). */
  chunkBytes?: number;
  onProgress?: (progress: TransferProgress) => void;
  /** Milliseconds between progress events while bytes flow (state changes are always reported). */
  progressIntervalMs?: number;
  /** Where the layers are hashed. */
  sha256?: Sha256Factory;
}

export interface PushTarget {
  /** Index into the archive's images. */
  image: number;
  /** `registry/repository:tag`. */
  reference: string;
}

export { parsePushTarget };
export type { BlobState, TransferProgress, TransferResult } from './transfer/types.ts';

export async function pushArchive(
  contents: ArchiveContents,
  targets: PushTarget[],
  options: PushOptions = {},
): Promise<TransferResult> {
  if (targets.length === 0) throw new SkiffError('invalid-argument', 'Name where to push at least one image');
  const images = targets.map((target) => {
    const image = contents.images[target.image];
    if (!image) throw new SkiffError('invalid-argument', `The archive has no image number ${target.image + 1}`);
    return { image: archiveImage(image, options), target: parsePushTarget(target.reference) };
  });
  const { signal, chunkBytes, onProgress, progressIntervalMs } = options;
  const destination = new RegistryDestination(new RegistryClients(options, { push: true }), {
    ...(signal ? { signal } : {}),
    ...(chunkBytes ? { chunkBytes } : {}),
  });
  return toRegistry({ images, sequential: contents.sequential }, destination, {
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(progressIntervalMs !== undefined ? { progressIntervalMs } : {}),
  });
}

/** What goes up as one: an image, or an index with every manifest it names. */
export interface PushUnitInfo {
  kind: 'image' | 'index';
  /** The name the archive gives it (`docker.io/library/nginx:1.27`), '' when none. */
  name: string;
  /** How messages name it: `Image 2 (nginx:1.27)`. */
  label: string;
  platforms: string[];
  /** Its images, as numbers into the archive's images. */
  images: number[];
  /** Its number in the archive's indexes (kind `index`). */
  index?: number;
  /** The digest it keeps (the archive's own manifest or index), when it keeps one. */
  digest?: string;
  /** In plain words, why the digest will not be the archive's, when it will not. */
  note?: string;
  /** That reason as a key, for a page that says it in its own language. */
  reason?: keyof typeof CHANGED;
}

const CHANGED = {
  gzip: 'its layers are uncompressed in the archive and are gzipped on the way: the digest will differ; the image ID stays',
  made: 'the archive holds no manifest naming its layers as they are, so one is made: the digest will differ; the image ID stays',
};

/** The archive as push units: each complete index as one, every other image on its own. */
export function pushUnits(contents: ArchiveContents, options: Pick<PushOptions, 'compress'> = {}): PushUnitInfo[] {
  const units: PushUnitInfo[] = [];
  const inIndex = new Set<number>();
  contents.indexes.forEach((index, n) => {
    if (index.missing.length) return; // pushed per image: the index cannot go up as it is
    index.images.forEach((i) => inIndex.add(i));
    const name = index.repoTags[0] ?? index.images.map((i) => contents.images[i]!.repoTags[0]).find(Boolean) ?? '';
    units.push({
      kind: 'index',
      name,
      label: `Image ${units.length + 1} (${name || 'untagged'})`,
      platforms: index.images.map((i) => formatPlatform(contents.images[i]!.platform)),
      images: index.images,
      index: n,
      digest: index.digest,
    });
  });
  contents.images.forEach((image, i) => {
    if (inIndex.has(i)) return;
    const name = image.repoTags[0] ?? '';
    const uncompressed = image.layers.some((l) => l.compression === 'none');
    const reason: keyof typeof CHANGED | undefined = keepsManifest(image, options)
      ? undefined
      : options.compress !== false && uncompressed
        ? 'gzip'
        : 'made';
    units.push({
      kind: 'image',
      name,
      label: `Image ${units.length + 1} (${name || 'untagged'})`,
      platforms: [formatPlatform(image.platform)],
      images: [i],
      ...(reason ? { note: CHANGED[reason], reason } : { digest: image.manifest!.digest }),
    });
  });
  return units;
}

export type PushSetOptions = Omit<PushOptions, 'onProgress'> & Pick<SetOptions, 'onProgress'>;

/**
 * Pushes every unit of the archive: to `targets[n]` where given, else under `prefix`. Two units to one target,
 * or one with neither, are refused before any byte moves.
 */
export async function pushSet(
  contents: ArchiveContents,
  choice: { prefix?: string; targets?: readonly (string | undefined)[] },
  options: PushSetOptions = {},
): Promise<SetResult> {
  const infos = pushUnits(contents, options);
  const targets = planTargets(infos, choice);
  const units: SetUnit[] = [];
  for (const [n, info] of infos.entries()) {
    const index = info.index === undefined ? undefined : contents.indexes[info.index]!;
    // An index goes up byte for byte only with its manifests as they are: their layers go as the archive holds them.
    const images = info.images.map((i) =>
      archiveImage(contents.images[i]!, index ? { ...options, compress: false } : options),
    );
    const target = parsePushTarget(targets[n]!);
    if (index) {
      for (const other of index.others) images.push(await archiveRawImage(other, index.source, options));
      const { bytes, digest, mediaType } = index;
      units.push({
        name: info.name,
        target,
        images,
        index: { bytes, digest, mediaType },
        keeps: { bytes, digest, mediaType },
      });
      continue;
    }
    const own = info.digest ? contents.images[info.images[0]!]!.manifest : undefined;
    const keeps = own ? { bytes: own.bytes, digest: own.digest, mediaType: own.mediaType } : undefined;
    units.push({
      name: info.name,
      target,
      images,
      ...(keeps ? { keeps } : {}),
      ...(info.note ? { note: info.note } : {}),
    });
  }
  const { signal, chunkBytes, onProgress, progressIntervalMs } = options;
  const destination = new RegistryDestination(new RegistryClients(options, { push: true }), {
    ...(signal ? { signal } : {}),
    ...(chunkBytes ? { chunkBytes } : {}),
  });
  return setToRegistry(units, destination, {
    sequential: contents.sequential,
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(progressIntervalMs !== undefined ? { progressIntervalMs } : {}),
  });
}
