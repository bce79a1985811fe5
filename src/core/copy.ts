/**
 * Copy registry → registry, for a machine that reaches both: the source registry as the source
 * (transfer/registry-source.ts), the target as the destination, moved by the one transfer into a registry
 * (transfer/to-registry.ts). Each blob streams from the source's GET into the target's upload, checked on
 * the way, nothing on disk; manifests byte for byte, so every digest stays the same.
 */
import { SkiffError } from './errors.ts';
import type { Platform } from './image/platform.ts';
import { parseReference } from './image/reference.ts';
import { RegistryClients } from './registry/pool.ts';
import type { TransportOptions } from './registry/transport/options.ts';
import { parsePushTarget } from './push.ts';
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
