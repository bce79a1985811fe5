/** Media types of the Docker and OCI image formats, grouped by what the engine does with them. */
export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayout: 'application/vnd.oci.image.layout.v1+json',
} as const;

/** Every manifest type we read: a registry down-converts to schema1 when the Accept header forgets one. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
].join(', ');

export type LayerCompression = 'gzip' | 'zstd' | 'none';

type LayerFamily = 'docker' | 'oci';

/** Every layer type we know: what compresses it, which family names it, whether it is foreign. One table,
 *  read both ways (type → compression when reading a manifest; family + compression → type when writing one). */
const LAYER_TYPES: { mediaType: string; compression: LayerCompression; family: LayerFamily; foreign?: true }[] = [
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', compression: 'gzip', family: 'docker' },
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.zstd', compression: 'zstd', family: 'docker' },
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar', compression: 'none', family: 'docker' },
  { mediaType: MediaType.ociLayerGzip, compression: 'gzip', family: 'oci' },
  { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', compression: 'zstd', family: 'oci' },
  { mediaType: MediaType.ociLayer, compression: 'none', family: 'oci' },
  {
    mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    compression: 'gzip',
    family: 'docker',
    foreign: true,
  },
  {
    mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
    compression: 'none',
    family: 'oci',
    foreign: true,
  },
  {
    mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    compression: 'gzip',
    family: 'oci',
    foreign: true,
  },
  {
    mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
    compression: 'zstd',
    family: 'oci',
    foreign: true,
  },
];

/** How a layer of this media type is compressed, or undefined when it is not a layer type we know. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  return LAYER_TYPES.find((t) => t.mediaType === mediaType)?.compression;
}

/** The (distributable) layer type a manifest of `family` names a layer compressed so. */
export function layerMediaType(family: LayerFamily, compression: LayerCompression): string {
  return LAYER_TYPES.find((t) => t.family === family && t.compression === compression && !t.foreign)!.mediaType;
}

export function isForeignLayer(mediaType: string): boolean {
  return mediaType.includes('.foreign.') || mediaType.includes('.nondistributable.');
}
