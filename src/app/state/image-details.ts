/**
 * What the page shows about a resolved image beyond the resolve itself: the platforms to choose from, each
 * platform's download size and each layer's size in an uncompressed archive. Each costs requests of its own.
 */
import { planLayerSize } from '../../core/image/layer-size.ts';
import { parseManifest } from '../../core/image/manifest.ts';
import { isForeignLayer, layerCompression } from '../../core/image/media-types.ts';
import { formatPlatform } from '../../core/image/platform.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import { choosablePlatform } from '../lib/advice.ts';
import { registryClients } from './transport.ts';

export interface PlatformOption {
  value: string;
  digest?: string;
}

/** The platforms of an index a person can pick, each once. */
export function platformOptionsOf(image: ResolvedImage): PlatformOption[] {
  if (!image.index) return [];
  const seen = new Set<string>();
  return image.index.platforms
    .map((p) => ({ value: formatPlatform(p.platform), digest: p.digest }))
    .filter((o) => !seen.has(o.value) && seen.add(o.value))
    .filter((o) => choosablePlatform(o.value));
}

/**
 * The download size of every platform of the index, by manifest digest: each child manifest, its layers
 * summed. `onSizes` gets the sizes known so far after each one.
 */
export async function fetchPlatformSizes(
  image: ResolvedImage,
  signal: AbortSignal,
  onSizes: (sizes: Record<string, number>) => void,
): Promise<void> {
  const entries = image.index?.platforms ?? [];
  const sizes: Record<string, number> = { [image.manifest.digest]: image.compressedSize };
  onSizes({ ...sizes });
  const pending = entries.filter((e) => sizes[e.digest] === undefined);
  const worker = async () => {
    for (let entry = pending.shift(); entry; entry = pending.shift()) {
      try {
        const fetched = await registryClients()
          .for(image.reference.registry)
          .getManifest(image.reference.repository, entry.digest, signal);
        const parsed = parseManifest(fetched.bytes, fetched.contentType);
        if (parsed.kind === 'image') sizes[entry.digest] = parsed.layers.reduce((sum, l) => sum + l.size, 0);
      } catch {
        // a size is a nicety: the option just shows none
      }
      if (signal.aborted) return;
      onSizes({ ...sizes });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** What the engine will plan for each layer of an uncompressed archive: a gzip layer's size from its trailer. */
export async function fetchLayerSizes(image: ResolvedImage, signal: AbortSignal): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  await Promise.all(
    image.layers.map(async ({ descriptor }) => {
      const compression = layerCompression(descriptor.mediaType);
      if (!compression || compression === 'zstd') return;
      let tail: Uint8Array | undefined;
      if (compression === 'gzip' && !isForeignLayer(descriptor.mediaType))
        tail = await registryClients()
          .for(image.reference.registry)
          .blobTail(image.reference.repository, descriptor.digest, descriptor.size, 8, signal)
          .catch(() => undefined);
      const plan = planLayerSize(descriptor, compression, tail);
      // Kept compressed, the layer goes in as served.
      sizes[descriptor.digest] = plan.kind === 'exact' ? plan.size : descriptor.size;
    }),
  );
  return sizes;
}
