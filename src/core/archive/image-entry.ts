/**
 * What the archive says about each image: the manifest blob index.json points at, and the names it loads
 * under (`docker load` tags, the OCI ref name).
 */
import type { ArchiveDestination, ArchiveImage } from './writer.ts';
import { sha256Of } from '../codecs/sha256.ts';
import type { Descriptor } from '../image/manifest.ts';
import { MediaType, layerCompression, layerMediaType } from '../image/media-types.ts';
import { familiarName, formatReference } from '../image/reference.ts';
import type { ResolvedImage } from '../registry/resolve.ts';

/** How the archive holds a layer: as served by the registry, or inflated and named by its diff_id. */
export interface ArchivedLayer {
  descriptor: Descriptor;
  asServed: boolean;
}

export interface WrittenManifest {
  mediaType: string;
  digest: string;
  size: number;
  layerDigests: string[];
}

/** The registry's own manifest when every layer is kept as served, else one naming the archive's layers. */
export async function writeManifest(
  archive: Pick<ArchiveDestination, 'addBlob'>,
  image: ResolvedImage,
  layers: ArchivedLayer[],
): Promise<WrittenManifest> {
  const layerDigests = layers.map((l) => l.descriptor.digest);
  if (layers.every((l) => l.asServed)) {
    await archive.addBlob(image.manifest.digest, image.manifest.bytes);
    return {
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.bytes.byteLength,
      layerDigests,
    };
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: image.config.digest, size: image.config.bytes.byteLength },
    layers: layers.map(({ descriptor }) => ({
      mediaType: ociLayerType(descriptor.mediaType),
      digest: descriptor.digest,
      size: descriptor.size,
    })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = await sha256Of(bytes);
  await archive.addBlob(digest, bytes);
  return { mediaType: MediaType.ociManifest, digest, size: bytes.byteLength, layerDigests };
}

/** The image's entry in manifest.json / index.json, and a note when it loads untagged. */
export function archiveEntryFor(
  image: ResolvedImage,
  manifest: WrittenManifest,
): { entry: ArchiveImage; note?: string } {
  const { reference } = image;
  const tagged = reference.tag !== undefined;
  const entry: ArchiveImage = {
    repoTags: tagged ? [`${familiarName(reference)}:${reference.tag}`] : [],
    ...(tagged
      ? { fullName: `${reference.registry}/${reference.repository}:${reference.tag}`, tag: reference.tag }
      : {}),
    configDigest: image.config.digest,
    layerDigests: manifest.layerDigests,
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
  };
  if (tagged) return { entry };
  return {
    entry,
    note: `${formatReference(reference)} was pulled by digest only, so it loads untagged: tag it with \`docker tag ${image.config.digest.slice(7, 19)} NAME:TAG\`.`,
  };
}

/** The OCI name for a layer type, for a manifest we write (Docker's names are not valid in an OCI manifest). */
function ociLayerType(mediaType: string): string {
  if (mediaType.startsWith('application/vnd.oci.')) return mediaType;
  return layerMediaType('oci', layerCompression(mediaType) ?? 'none');
}
