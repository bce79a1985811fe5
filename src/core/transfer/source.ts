/**
 * What a transfer into a registry moves, whatever it comes from (an archive being pushed, a registry being
 * copied): images, each a config, layers that open as checked byte streams, and the manifest the source
 * holds. Also the manifest that goes up when the layers changed on the way (gzipped uncompressed layers).
 */
import { sha256Of } from '../codecs/sha256.ts';
import type { ImageManifest } from '../image/manifest.ts';
import { type LayerCompression, MediaType, layerMediaType } from '../image/media-types.ts';
import type { ImageReference } from '../image/reference.ts';
import type { BlobStream } from '../registry/upload.ts';

export interface SourceLayer {
  /** The same key is the same source bytes: moved once per destination repository. */
  key: string;
  /** Its digest as it will arrive, when known before moving it (not when it is gzipped on the way). */
  digest?: string;
  /** Bytes read from the source. */
  size: number;
  mediaType: string;
  /** How what arrives is compressed. */
  compression: LayerCompression;
  /** Its path in the archive it is read from. */
  path?: string;
  /** Where a sequential source holds it. */
  offset?: number;
  /** The repository it comes from, when that is a registry (a mount there is a copy for free). */
  from?: ImageReference;
  /** The bytes, afresh for each attempt, hashed and checked as they pass; `onBytes` counts source bytes. */
  open(onBytes: (n: number) => void): BlobStream;
}

export interface SourceImage {
  /** `os/arch[/variant]`, or '' when the source does not say. */
  platform: string;
  config: { digest: string; bytes: Uint8Array; from?: ImageReference };
  layers: SourceLayer[];
  /** The manifest the source holds: put as it is when every layer arrives as it names it. */
  manifest?: { bytes: Uint8Array; digest: string; mediaType: string; value?: ImageManifest };
  /** The manifest goes byte for byte whatever (a copy changes nothing on the way). */
  keepManifest?: boolean;
}

export interface MovedLayer {
  digest: string;
  size: number;
  compression: LayerCompression;
}

/** The source's own manifest when the layers arrived as it names them (same digest), else one naming them. */
export async function manifestFor(
  image: SourceImage,
  layers: MovedLayer[],
): Promise<{ bytes: Uint8Array; digest: string; mediaType: string }> {
  const own = image.manifest;
  const unchanged =
    own &&
    (image.keepManifest ||
      (own.value &&
        own.value.config.digest === image.config.digest &&
        own.value.layers.length === layers.length &&
        own.value.layers.every((l, i) => l.digest === layers[i]!.digest && l.size === layers[i]!.size)));
  if (own && unchanged) return { bytes: own.bytes, digest: own.digest, mediaType: own.mediaType };
  const family =
    own?.mediaType === MediaType.ociManifest || layers.some((l) => l.compression === 'zstd') ? 'oci' : 'docker';
  const mediaType = family === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: family === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig,
        size: image.config.bytes.byteLength,
        digest: image.config.digest,
      },
      layers: layers.map((l) => ({ mediaType: layerMediaType(family, l.compression), size: l.size, digest: l.digest })),
    }),
  );
  return { bytes, digest: await sha256Of(bytes), mediaType };
}
