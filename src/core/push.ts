/**
 * Push: the images of an archive (archive/reader.ts) into registries — the archive as the source
 * (transfer/archive-source.ts), the registry as the destination (transfer/registry-destination.ts), moved
 * by the one transfer into a registry (transfer/to-registry.ts). Nothing is tagged unless every layer of
 * every image passed its checks.
 */
import type { ArchiveContents } from './archive/reader.ts';
import type { Sha256Factory } from './codecs/sha256.ts';
import { SkiffError } from './errors.ts';
import { type ImageReference, parseReference } from './image/reference.ts';
import { RegistryClients } from './registry/pool.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { archiveImage } from './transfer/archive-source.ts';
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

/** Parses a push target; a tag is required (a digest names content, it cannot be pushed to). */
export function parsePushTarget(text: string): ImageReference {
  const reference = parseReference(text);
  if (reference.digest)
    throw new SkiffError(
      'invalid-reference',
      `Push to a tag (${reference.registry}/${reference.repository}:TAG), not a digest: the manifest's digest follows from its content`,
    );
  return reference;
}

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
