/**
 * Push: the images of an archive (see archive-read.ts) into registries. Every layer is read as a stream
 * from the archive and checked as it is read — its uncompressed sha256 against the config's diff_id, and
 * the file's own sha256 where the archive names it — and committed only when the checks pass; all layers
 * of all images go first, so a tampered archive is refused before any manifest is put (nothing is tagged).
 * Blobs the registry has are skipped (HEAD), blobs another repository of the same registry got in this run
 * are mounted, and uncompressed layers are gzipped on the way by default, as `docker push` does; the
 * config is pushed byte for byte, so the image ID stays the one in the archive.
 */
import type { ArchiveContents, ArchiveImageEntry, ArchiveLayer } from './archive/reader.ts';
import type { Decoder } from './codecs/decoder.ts';
import { gzipChunks } from './codecs/gzip.ts';
import { GunzipDecoder } from './codecs/gunzip.ts';
import { type Sha256Factory, createSha256, sha256Of, verifyDigest } from './codecs/sha256.ts';
import { ZstdDecoder } from './codecs/zstd.ts';
import { SkiffError, abortError } from './errors.ts';
import { type LayerCompression, MediaType } from './image/media-types.ts';
import { formatPlatform } from './image/platform.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from './image/reference.ts';
import type { RegistryClient, TransportOptions } from './registry/client.ts';
import { RegistryClients } from './registry/pool.ts';
import { type BlobStream, tryMount, uploadBlob } from './registry/upload.ts';

export interface PushOptions extends TransportOptions {
  signal?: AbortSignal;
  /** Gzip uncompressed layers on the way (default true, like `docker push`); false pushes them as they are. */
  compress?: boolean;
  /** gzip level for that (default 6, zlib's own; the runtime's CompressionStream does it, others go through pako). */
  gzipLevel?: number;
  /** Upload chunk size (default 4 MiB: GHCR refuses more). */
  chunkBytes?: number;
  onProgress?: (progress: PushProgress) => void;
  /** Milliseconds between progress events while bytes flow (state changes are always reported). */
  progressIntervalMs?: number;
  sha256?: Sha256Factory;
}

export interface PushTarget {
  /** Index into the archive's images. */
  image: number;
  /** `registry/repository:tag`. */
  reference: string;
}

export type PushLayerState = 'waiting' | 'checking' | 'uploading' | 'exists' | 'mounted' | 'done' | 'shared';

export interface PushLayerProgress {
  /** Index into the targets. */
  target: number;
  path: string;
  /** Bytes of the layer file in the archive. */
  size: number;
  /** Bytes of the file read and handed to the registry so far. */
  read: number;
  state: PushLayerState;
}

export interface PushProgress {
  layers: PushLayerProgress[];
  /** File bytes read and sent / to send, over the whole push (layers the registry has count as done). */
  read: number;
  expected: number;
}

export interface PushedImage {
  target: string;
  manifestDigest: string;
  mediaType: string;
  /** The image ID: the config digest, as in the archive. */
  configDigest: string;
  platform: string;
  /** `docker pull registry/repo@sha256:…` */
  pullCommand: string;
}

export interface PushResult {
  images: PushedImage[];
  /** Blobs uploaded, found already there, and mounted from another repository. */
  uploaded: number;
  existing: number;
  mounted: number;
}

interface PushedLayer {
  digest: string;
  size: number;
  compression: LayerCompression;
}

interface LayerJob {
  target: number;
  reference: ImageReference;
  layer: ArchiveLayer;
  progress: PushLayerProgress;
  /** Same file, same repository as an earlier job: reuses its result. */
  sameAs?: LayerJob;
  result?: PushedLayer;
}

const LAYER_TYPES: Record<'docker' | 'oci', Record<LayerCompression, string>> = {
  docker: {
    gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    none: 'application/vnd.docker.image.rootfs.diff.tar',
    zstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  },
  oci: { gzip: MediaType.ociLayerGzip, none: MediaType.ociLayer, zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' },
};

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
): Promise<PushResult> {
  return new PushRun(contents, targets, options).run();
}

class PushRun {
  private readonly clients: RegistryClients;
  private readonly jobs: LayerJob[] = [];
  private readonly progress: PushProgress;
  private readonly references: ImageReference[];
  /** Per registry: digest → a repository that holds it now (for mounts). */
  private readonly holders = new Map<string, Map<string, string>>();
  /** Source file (archive + path) → what pushing it gave, whichever repository it went to. */
  private readonly bySource = new Map<string, PushedLayer>();
  private readonly counts = { uploaded: 0, existing: 0, mounted: 0 };
  private lastEmit = 0;
  private readonly compress: boolean;
  private readonly sha256: Sha256Factory;

  constructor(
    private readonly contents: ArchiveContents,
    private readonly targets: PushTarget[],
    private readonly options: PushOptions,
  ) {
    if (targets.length === 0) throw new SkiffError('invalid-argument', 'Name where to push at least one image');
    this.clients = new RegistryClients(options, { push: true });
    this.compress = options.compress ?? true;
    this.sha256 = options.sha256 ?? createSha256;
    this.references = targets.map((t) => {
      if (!contents.images[t.image])
        throw new SkiffError('invalid-argument', `The archive has no image number ${t.image + 1}`);
      return parsePushTarget(t.reference);
    });
    const seen = new Map<string, LayerJob>();
    targets.forEach((target, i) => {
      const reference = this.references[i]!;
      for (const layer of contents.images[target.image]!.layers) {
        const key = `${reference.registry}/${reference.repository}|${sourceKey(contents.images[target.image]!, layer)}`;
        const earlier = seen.get(key);
        const job: LayerJob = {
          target: i,
          reference,
          layer,
          progress: { target: i, path: layer.path, size: layer.size, read: 0, state: earlier ? 'shared' : 'waiting' },
          ...(earlier ? { sameAs: earlier } : {}),
        };
        if (!earlier) seen.set(key, job);
        this.jobs.push(job);
      }
    });
    const expected = this.jobs.filter((j) => !j.sameAs).reduce((s, j) => s + j.layer.size, 0);
    this.progress = { layers: this.jobs.map((j) => j.progress), read: 0, expected };
  }

  private client(registry: string): RegistryClient {
    return this.clients.for(registry);
  }

  private emit(force = false): void {
    if (!this.options.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < (this.options.progressIntervalMs ?? 100)) return;
    this.lastEmit = now;
    this.progress.read = this.progress.layers.reduce(
      (s, l) => s + (l.state === 'shared' ? 0 : l.state === 'exists' || l.state === 'mounted' ? l.size : l.read),
      0,
    );
    this.options.onProgress(structuredClone(this.progress));
  }

  private checkAbort(): void {
    if (this.options.signal?.aborted) throw abortError(this.options.signal);
  }

  async run(): Promise<PushResult> {
    this.emit(true);
    // A compressed archive is read in order; otherwise the order is the images' own.
    const order = this.jobs.filter((j) => !j.sameAs);
    if (this.contents.sequential) order.sort((a, b) => a.layer.offset - b.layer.offset);
    for (const job of order) {
      this.checkAbort();
      job.result = await this.pushLayer(job);
    }
    for (const job of this.jobs) if (job.sameAs) job.result = job.sameAs.result;
    const images: PushedImage[] = [];
    for (const [i, target] of this.targets.entries()) {
      this.checkAbort();
      images.push(await this.pushImage(i, this.contents.images[target.image]!));
    }
    this.emit(true);
    return { images, ...this.counts };
  }

  private holder(registry: string): Map<string, string> {
    let map = this.holders.get(registry);
    if (!map) this.holders.set(registry, (map = new Map()));
    return map;
  }

  /** HEAD, then a mount from a repository that got it in this run, then an upload. */
  private async pushLayer(job: LayerJob): Promise<PushedLayer> {
    const { reference, layer, progress } = job;
    const { signal } = this.options;
    const client = this.client(reference.registry);
    const repo = reference.repository;
    const source = sourceKey(this.contents.images[this.targets[job.target]!.image]!, layer);
    const recompress = this.compress && layer.compression === 'none';
    const earlier = this.bySource.get(source);
    const known: PushedLayer | undefined =
      earlier ??
      (!recompress && layer.digest
        ? { digest: layer.digest, size: layer.size, compression: layer.compression }
        : undefined);
    if (known) {
      progress.state = 'checking';
      this.emit(true);
      if (await client.hasBlob(repo, known.digest, signal)) {
        progress.state = 'exists';
        this.counts.existing++;
        return this.record(reference, source, known);
      }
      const from = this.holder(reference.registry).get(known.digest);
      if (from && from !== repo && (await tryMount(client, repo, known.digest, from, signal))) {
        progress.state = 'mounted';
        this.counts.mounted++;
        return this.record(reference, source, known);
      }
    }
    progress.state = 'uploading';
    this.emit(true);
    const result = await uploadBlob(
      client,
      repo,
      () => {
        progress.read = 0;
        return this.layerStream(layer, recompress, (n) => {
          progress.read += n;
          this.emit();
        });
      },
      { ...(this.options.chunkBytes ? { chunkBytes: this.options.chunkBytes } : {}), ...(signal ? { signal } : {}) },
    );
    progress.read = layer.size;
    progress.state = 'done';
    this.counts.uploaded++;
    this.emit(true);
    return this.record(reference, source, {
      digest: result.digest,
      size: result.size,
      compression: recompress ? 'gzip' : layer.compression,
    });
  }

  private record(reference: ImageReference, source: string, pushed: PushedLayer): PushedLayer {
    this.holder(reference.registry).set(pushed.digest, reference.repository);
    this.bySource.set(source, pushed);
    return pushed;
  }

  /**
   * The layer file as a stream of bytes to upload, hashing as it goes: the file itself, its uncompressed
   * content (the diff_id), and what is uploaded when it is gzipped on the way.
   */
  private layerStream(layer: ArchiveLayer, recompress: boolean, onRead: (n: number) => void): BlobStream {
    const what = `Layer ${layer.path}`;
    const signal = this.options.signal;
    const level = this.options.gzipLevel ?? 6;
    let digests: { file: string; diff: string; upload: string; uploadSize: number; read: number } | undefined;
    const sha256 = this.sha256;
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
      for await (const chunk of recompress ? gzipChunks(fileChunks(), level) : fileChunks()) {
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

  private async pushImage(index: number, image: ArchiveImageEntry): Promise<PushedImage> {
    const reference = this.references[index]!;
    const client = this.client(reference.registry);
    const repo = reference.repository;
    const { signal } = this.options;
    const config = image.config;
    if (!(await client.hasBlob(repo, config.digest, signal))) {
      const bytes = config.bytes;
      await uploadBlob(
        client,
        repo,
        () => ({
          chunks: (async function* () {
            yield bytes;
          })(),
          done: async () => ({ digest: await sha256Of(bytes), size: bytes.byteLength }),
        }),
        signal ? { signal } : {},
      );
    }
    const layers = this.jobs.filter((j) => j.target === index).map((j) => j.result!);
    const own = image.manifest;
    let bytes: Uint8Array;
    let mediaType: string;
    if (
      own &&
      own.value.config.digest === config.digest &&
      own.value.layers.length === layers.length &&
      own.value.layers.every((l, i) => l.digest === layers[i]!.digest && l.size === layers[i]!.size)
    ) {
      // Layers pushed as the archive's own manifest names them: that manifest, byte for byte (same digest).
      bytes = own.bytes;
      mediaType = own.mediaType;
    } else {
      const family =
        own?.mediaType === MediaType.ociManifest || layers.some((l) => l.compression === 'zstd') ? 'oci' : 'docker';
      mediaType = family === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
      bytes = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType,
          config: {
            mediaType: family === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig,
            size: config.bytes.byteLength,
            digest: config.digest,
          },
          layers: layers.map((l) => ({
            mediaType: LAYER_TYPES[family][l.compression],
            size: l.size,
            digest: l.digest,
          })),
        }),
      );
    }
    const manifestDigest = await sha256Of(bytes);
    const tag = reference.tag ?? 'latest';
    const answered = await client.putManifest(repo, tag, bytes, mediaType, signal);
    if (answered && answered !== manifestDigest)
      throw new SkiffError(
        'digest-mismatch',
        `The registry stored the manifest as ${answered}, not ${manifestDigest}: it changed what was pushed`,
      );
    const name = familiarName(reference);
    return {
      target: formatReference({ ...reference, tag }),
      manifestDigest,
      mediaType,
      configDigest: config.digest,
      platform: formatPlatform(image.platform),
      pullCommand: `docker pull ${name}@${manifestDigest}`,
    };
  }
}

function sourceKey(image: ArchiveImageEntry, layer: ArchiveLayer): string {
  return `${image.source}|${layer.path}`;
}
