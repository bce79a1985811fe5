/**
 * Copy registry → registry, for a machine that reaches both: the source registry as the source
 * (transfer/registry-source.ts), the target as the destination, moved by the one transfer into a registry
 * (transfer/to-registry.ts). Each blob streams from the source's GET into the target's upload, checked on
 * the way, nothing on disk; manifests byte for byte, so every digest stays the same. `copySet` does a list
 * of images at once, each to its own target or under one prefix (transfer/set-to-registry.ts).
 */
import { SkiffError } from './errors.ts';
import type { Platform } from './image/platform.ts';
import type { PlatformSelection } from './image/image-list.ts';
import { formatReference, parseReference } from './image/reference.ts';
import { RegistryClients } from './registry/pool.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { type SetOptions, type SetResult, type SetUnit, setToRegistry } from './transfer/set-to-registry.ts';
import { parsePushTarget, planTargets } from './transfer/targets.ts';
import { RegistryDestination } from './transfer/registry-destination.ts';
import { registrySource } from './transfer/registry-source.ts';
import { toRegistry } from './transfer/to-registry.ts';
import type { TransferProgress, TransferResult } from './transfer/types.ts';

export interface CopyOptions extends TransportOptions {
  /** Credentials for the target registry when they differ from the source's (`credentials` then serves the source). */
  targetCredentials?: TransportOptions['credentials'];
  /** One platform of an index (default linux/amd64), or `all` for the whole index. */
  platform?: Platform | 'all';
  signal?: AbortSignal;
  chunkBytes?: number;
  onProgress?: (progress: TransferProgress) => void;
}

/** The result, and what the target tag now names when that is an index (the same digest as the source's). */
export type CopyResult = TransferResult & { index?: { reference: string; digest: string; mediaType: string } };

export async function copyImage(source: string, target: string, options: CopyOptions = {}): Promise<CopyResult> {
  const from = parseReference(source);
  const to = parsePushTarget(target);
  const { signal, chunkBytes, onProgress } = options;
  const read = await registrySource(new RegistryClients(options).for(from.registry), from, options.platform, signal);
  if (read.images.length === 0) throw new SkiffError('bad-manifest', `${source} lists no images to copy`);
  const targetTransport =
    options.targetCredentials !== undefined ? { ...options, credentials: options.targetCredentials } : options;
  const destination = new RegistryDestination(new RegistryClients(targetTransport, { push: true }), {
    ...(signal ? { signal } : {}),
    ...(chunkBytes ? { chunkBytes } : {}),
  });
  return toRegistry(
    { images: read.images.map((image) => ({ image, target: to })), ...(read.index ? { index: read.index } : {}) },
    destination,
    { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) },
  );
}

export type CopySetOptions = Omit<CopyOptions, 'onProgress' | 'platform'> & Pick<SetOptions, 'onProgress'>;

/**
 * Copies every image of a list (image/image-list.ts entries): to `targets[n]` where given, else under `prefix`
 * (prefix + repository path + tag). `platforms`: `all` copies the index byte for byte; one platform copies
 * that image; none, linux/amd64. Every name is read and every target planned before any byte moves.
 */
export async function copySet(
  sources: readonly { reference: string; platforms?: PlatformSelection }[],
  choice: { prefix?: string; targets?: readonly (string | undefined)[] },
  options: CopySetOptions = {},
): Promise<SetResult> {
  const { signal, chunkBytes, onProgress } = options;
  const refs = sources.map((s) => parseReference(s.reference));
  const targets = planTargets(
    refs.map((ref, n) => ({ name: formatReference(ref), label: `${sources[n]!.reference} (line ${n + 1})` })),
    choice,
  );
  const clients = new RegistryClients(options);
  const units: SetUnit[] = [];
  for (const [n, from] of refs.entries()) {
    const selection = sources[n]!.platforms ?? [];
    if (selection !== 'all' && selection.length > 1)
      throw new SkiffError(
        'unsupported',
        `${sources[n]!.reference}: copy one platform or all of them, not ${selection.length}`,
      );
    const platform = selection === 'all' ? ('all' as const) : selection[0];
    const read = await registrySource(clients.for(from.registry), from, platform, signal);
    const top = read.index ?? read.images[0]?.manifest;
    if (!top) throw new SkiffError('bad-manifest', `${sources[n]!.reference} lists no images to copy`);
    const keeps = { bytes: top.bytes, digest: top.digest, mediaType: top.mediaType };
    units.push({
      name: sources[n]!.reference,
      target: parsePushTarget(targets[n]!),
      images: read.images,
      ...(read.index ? { index: keeps } : {}),
      keeps,
    });
  }
  const targetTransport =
    options.targetCredentials !== undefined ? { ...options, credentials: options.targetCredentials } : options;
  const destination = new RegistryDestination(new RegistryClients(targetTransport, { push: true }), {
    ...(signal ? { signal } : {}),
    ...(chunkBytes ? { chunkBytes } : {}),
  });
  return setToRegistry(units, destination, { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
}
