/** A resolved image as the page holds one, without a registry: layers of the given sizes, small manifest and config. */
import { parseReference } from '../../src/core/image/reference.ts';
import type { ResolvedImage } from '../../src/core/registry/resolve.ts';

export function fakeImage(name: string, layerSizes: number[]): ResolvedImage {
  return {
    reference: parseReference(name),
    platform: { os: 'linux', architecture: 'amd64' },
    layers: layerSizes.map((size, i) => ({
      descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${name}${i}`, size },
      diffId: `sha256:diff${i}`,
    })),
    config: { digest: 'sha256:c', bytes: new Uint8Array(300), value: {} },
    manifest: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:m',
      bytes: new Uint8Array(500),
    },
    compressedSize: layerSizes.reduce((a, b) => a + b, 0),
  } as unknown as ResolvedImage;
}
