/**
 * An archive (archive/reader.ts) as a transfer's source, for a push: each layer is read as a stream from
 * the file and checked as it is read — its uncompressed sha256 against the config's diff_id, and the
 * file's own sha256 where the archive names it. Where the archive holds the image's manifest and the files it
 * names, compressed as it names them (as pulled, skopeo OCI archives, Docker ≥ 25 with the containerd store),
 * they go as they are and that manifest byte for byte: same digest. Uncompressed layers are gzipped on the
 * way by default, as `docker push`, skopeo and crane do, under a new manifest (the digest changes; `compress:
 * false` keeps them and the manifest as they are). The config goes byte for byte: the image ID stays.
 */
import type { ArchiveRawManifest } from '../archive/oci-index.ts';
import { readBytes } from '../archive/random-access.ts';
import type { ArchiveImageEntry, ArchiveLayer } from '../archive/reader.ts';
import type { Decoder } from '../codecs/decoder.ts';
import { type Gzip, gzipChunks } from '../codecs/gzip.ts';
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { type Sha256Factory, createSha256, sha256Of, verifyDigest } from '../codecs/sha256.ts';
import { ZstdDecoder } from '../codecs/zstd.ts';
import { SkiffError, abortError } from '../errors.ts';
import { formatPlatform } from '../image/platform.ts';
import type { BlobStream } from '../registry/upload.ts';
import type { SourceImage } from './source.ts';

export interface ArchiveSourceOptions {
  signal?: AbortSignal;
  /** Gzip uncompressed layers on the way (default true, like `docker push`); false sends them as they are. */
  compress?: boolean;
  /** gzip level for that (default 6, zlib's own). */
  gzipLevel?: number;
  /** What gzips them (default the runtime's CompressionStream, or pako). */
  gzip?: Gzip;
  /** Where the layers are hashed (a hasher on another thread, ideally). */
  sha256?: Sha256Factory;
}

/** Whether the push keeps the archive's own manifest (and so its digest): it holds it, and no layer is gzipped. */
export function keepsManifest(image: ArchiveImageEntry, options: Pick<ArchiveSourceOptions, 'compress'> = {}): boolean {
  return !!image.manifest && (options.compress === false || image.layers.every((l) => l.compression !== 'none'));
}

export function archiveImage(image: ArchiveImageEntry, options: ArchiveSourceOptions = {}): SourceImage {
  const compress = options.compress ?? true;
  return {
    platform: formatPlatform(image.platform),
    config: { digest: image.config.digest, bytes: image.config.bytes },
    ...(image.manifest ? { manifest: image.manifest } : {}),
    layers: image.layers.map((layer) => {
      const recompress = compress && layer.compression === 'none';
      return {
        key: `${image.source}|${layer.path}`,
        ...(!recompress && layer.digest ? { digest: layer.digest } : {}),
        size: layer.size,
        mediaType: layer.mediaType ?? '',
        compression: recompress ? 'gzip' : layer.compression,
        path: layer.path,
        offset: layer.offset,
        open: (onBytes) => layerStream(layer, recompress, onBytes, options),
      };
    }),
  };
}

/**
 * The layer file as a stream of bytes to upload, hashing as it goes: the file itself, its uncompressed
 * content (the diff_id), and what is uploaded when it is gzipped on the way.
 */
function layerStream(
  layer: ArchiveLayer,
  recompress: boolean,
  onRead: (n: number) => void,
  options: ArchiveSourceOptions,
): BlobStream {
  const what = `Layer ${layer.path}`;
  const { signal } = options;
  const level = options.gzipLevel ?? 6;
  const sha256 = options.sha256 ?? createSha256;
  const gzip = options.gzip ?? gzipChunks;
  let digests: { file: string; diff: string; upload: string; uploadSize: number; read: number } | undefined;
  async function* produce(): AsyncGenerator<Uint8Array> {
    const fileHash = await sha256();
    const decoder: Decoder | undefined =
      layer.compression === 'gzip'
        ? new GunzipDecoder(what, { reuseOutput: true })
        : layer.compression === 'zstd'
          ? new ZstdDecoder(what)
          : undefined;
    const diffHash = decoder ? await sha256() : fileHash;
    const uploadHash = recompress ? await sha256() : fileHash;
    let read = 0;
    /** The layer file as read, hashed as it is and as it inflates. */
    async function* fileChunks(): AsyncGenerator<Uint8Array> {
      const reader = layer.blob.slice(0, layer.size).getReader();
      try {
        for (;;) {
          if (signal?.aborted) throw abortError(signal);
          const { done, value } = await reader.read();
          if (done) break;
          read += value.byteLength;
          if (read > layer.size) throw new SkiffError('size-mismatch', `${what} is longer than its tar entry`);
          await fileHash.update(value);
          if (decoder) for (const out of decoder.push(value)) await diffHash.update(out);
          yield value;
          onRead(value.byteLength);
        }
        if (decoder) for (const out of decoder.finish()) await diffHash.update(out);
      } finally {
        reader.cancel().catch(() => {});
      }
    }
    let uploadSize = 0;
    for await (const chunk of recompress ? gzip(fileChunks(), level) : fileChunks()) {
      if (recompress) await uploadHash.update(chunk);
      uploadSize += chunk.byteLength;
      yield chunk;
    }
    const file = await fileHash.digest();
    const diff = decoder ? await diffHash.digest() : file;
    const upload = recompress ? await uploadHash.digest() : file;
    digests = { file, diff, upload, uploadSize, read };
  }
  return {
    chunks: produce(),
    done: async () => {
      if (!digests) throw new SkiffError('bad-layer', `${what} was not read to its end`);
      if (digests.read !== layer.size)
        throw new SkiffError('size-mismatch', `${what}: ${digests.read} bytes read of ${layer.size}`);
      verifyDigest(digests.diff, layer.diffId, `${what} (its uncompressed content against the config's diff_id)`);
      if (layer.digest) verifyDigest(digests.file, layer.digest, what);
      return { digest: digests.upload, size: digests.uploadSize };
    },
  };
}

/** A manifest an index names that is no runnable image (an attestation): its blobs and it, byte for byte. */
export async function archiveRawImage(
  raw: ArchiveRawManifest,
  source: string,
  options: ArchiveSourceOptions = {},
): Promise<SourceImage> {
  const [config, ...blobs] = raw.blobs;
  if (!config) throw new SkiffError('bad-manifest', `Manifest ${raw.digest} has no config in the archive`);
  const what = `The config of ${raw.digest}`;
  const bytes = await readBytes(config.blob, 0, config.size);
  verifyDigest(await sha256Of(bytes), config.digest, what);
  return {
    platform: '',
    config: { digest: config.digest, bytes },
    manifest: { bytes: raw.bytes, digest: raw.digest, mediaType: raw.mediaType },
    keepManifest: true,
    layers: blobs.map((blob) => {
      // Checked as an uncompressed file named by its digest: the whole file against that digest.
      const layer: ArchiveLayer = { ...blob, diffId: blob.digest, compression: 'none' };
      return {
        key: `${source}|${blob.path}`,
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
        compression: 'none',
        path: blob.path,
        offset: blob.offset,
        open: (onBytes) => layerStream(layer, false, onBytes, options),
      };
    }),
  };
}
