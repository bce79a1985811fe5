/**
 * A registry as the source of a copy: the manifest (one platform of an index, or the whole index with every
 * image it lists), each checked against its digest and kept byte for byte; each blob streamed from its GET —
 * resumed with Range when cut, hashed and size-checked — straight into the destination's upload.
 */
import { createSha256, sha256Of, verifyDigest } from '../codecs/sha256.ts';
import { SkiffError } from '../errors.ts';
import { type Descriptor, MAX_MANIFEST_BYTES, choosePlatform, parseConfig, parseManifest } from '../image/manifest.ts';
import { isForeignLayer, layerCompression } from '../image/media-types.ts';
import { type Platform, formatPlatform, normalizePlatform } from '../image/platform.ts';
import type { ImageReference } from '../image/reference.ts';
import type { RegistryClient } from '../registry/client.ts';
import { resumableBody } from '../registry/transport/resume.ts';
import { BlobStalls } from '../registry/transport/watched-body.ts';
import type { BlobStream } from '../registry/upload.ts';
import type { SourceImage } from './source.ts';

export interface RegistrySource {
  images: SourceImage[];
  /** The index, when every platform of it is copied. */
  index?: { bytes: Uint8Array; digest: string; mediaType: string };
}

interface Fetched {
  digest: string;
  bytes: Uint8Array;
  parsed: ReturnType<typeof parseManifest>;
}

/** Reads what a copy of `source` moves: one platform (default linux/amd64), or `all` of an index. */
export async function registrySource(
  client: RegistryClient,
  source: ImageReference,
  platform: Platform | 'all' | undefined,
  signal?: AbortSignal,
): Promise<RegistrySource> {
  const fetchManifest = async (reference: string, expected?: string): Promise<Fetched> => {
    const got = await client.getManifest(source.repository, reference, signal);
    const digest = await sha256Of(got.bytes);
    if (expected) verifyDigest(digest, expected, `Manifest ${expected}`);
    // Layer types are not judged: a copy moves attestations too, whose blobs are not image layers.
    return { digest, bytes: got.bytes, parsed: parseManifest(got.bytes, got.contentType, { anyLayerTypes: true }) };
  };
  const image = async (fetched: Fetched, entryPlatform?: Platform): Promise<SourceImage> => {
    const { parsed } = fetched;
    if (parsed.kind !== 'image')
      throw new SkiffError('unsupported', `The index nests another index (${fetched.digest}); copy that one by digest`);
    const configBytes = await client.getSmallBlob(
      source.repository,
      parsed.config.digest,
      Math.min(parsed.config.size, MAX_MANIFEST_BYTES),
      signal,
      `Config ${parsed.config.digest}`,
    );
    verifyDigest(await sha256Of(configBytes), parsed.config.digest, `Config ${parsed.config.digest}`);
    return {
      platform: platformOf(configBytes, entryPlatform),
      config: { digest: parsed.config.digest, bytes: configBytes, from: source },
      manifest: { bytes: fetched.bytes, digest: fetched.digest, mediaType: parsed.mediaType },
      keepManifest: true,
      // Foreign layers are not the registry's to copy (docker push leaves them out too).
      layers: parsed.layers
        .filter((l) => !isForeignLayer(l.mediaType))
        .map((layer) => ({
          key: layer.digest,
          digest: layer.digest,
          size: layer.size,
          mediaType: layer.mediaType,
          compression: layerCompression(layer.mediaType) ?? 'none',
          from: source,
          open: (onBytes) => blobStream(client, source, layer, signal, onBytes),
        })),
    };
  };

  const top = await fetchManifest(source.digest ?? source.tag ?? 'latest', source.digest);
  if (top.parsed.kind === 'image') return { images: [await image(top)] };
  const index = top.parsed;
  if (platform !== 'all') {
    const entry = choosePlatform(index, platform);
    return { images: [await image(await fetchManifest(entry.digest, entry.digest), entry.platform)] };
  }
  const images: SourceImage[] = [];
  for (const entry of index.manifests)
    images.push(await image(await fetchManifest(entry.digest, entry.digest), entry.platform));
  return { images, index: { bytes: top.bytes, digest: top.digest, mediaType: index.mediaType } };
}

/** The platform an index entry names, else the config's; '' for a config that is no image's (attestations). */
function platformOf(configBytes: Uint8Array, entryPlatform: Platform | undefined): string {
  if (entryPlatform) return formatPlatform(normalizePlatform(entryPlatform));
  try {
    const config = parseConfig(configBytes);
    return formatPlatform(
      normalizePlatform({
        os: config.os || 'linux',
        architecture: config.architecture || 'amd64',
        ...(config.variant ? { variant: config.variant } : {}),
      }),
    );
  } catch {
    return '';
  }
}

/** A source blob as an upload stream: resumed with Range when the GET is cut, hashed, size-checked. */
function blobStream(
  client: RegistryClient,
  source: ImageReference,
  blob: Descriptor,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): BlobStream {
  let digest: string | undefined;
  let size = 0;
  async function* produce(): AsyncGenerator<Uint8Array> {
    const hash = await createSha256();
    const body = resumableBody(
      (offset, wait) => client.openBlob(source.repository, blob.digest, offset, signal, undefined, wait),
      {
        size: blob.size,
        what: `Blob ${blob.digest}`,
        stalls: new BlobStalls(client.waits, new URL(client.baseUrl).host),
        ...(signal ? { signal } : {}),
      },
    );
    for await (const chunk of body) {
      size += chunk.byteLength;
      await hash.update(chunk);
      onBytes(chunk.byteLength);
      yield chunk;
    }
    digest = await hash.digest();
  }
  return {
    chunks: produce(),
    done: async () => {
      if (!digest) throw new SkiffError('bad-layer', `Blob ${blob.digest} was not read to its end`);
      if (size !== blob.size)
        throw new SkiffError('size-mismatch', `Blob ${blob.digest} is ${size} bytes, not ${blob.size}`);
      verifyDigest(digest, blob.digest, `Blob ${blob.digest}`);
      return { digest, size };
    },
  };
}
