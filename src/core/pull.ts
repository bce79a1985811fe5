/**
 * One pull: plan (resolve every reference first, so most errors come before any byte is written), then run
 * (stream every layer into the archive, verifying each blob's digest and each layer's diff_id on the way),
 * with progress events and an AbortSignal. A failure aborts the sink: never a finished file that is wrong.
 */
import { ArchiveWriter, type ArchiveImage } from './archive.ts';
import { ChunkWriter } from './chunks.ts';
import { type Decoder, IdentityDecoder, OutputLimit } from './codecs/decoder.ts';
import { GunzipDecoder } from './codecs/gunzip.ts';
import { type Sha256Factory, createSha256, sha256Of, verifyDigest } from './codecs/sha256.ts';
import { ZstdDecoder } from './codecs/zstd.ts';
import { SkiffError, abortError } from './errors.ts';
import { planLayerSize, type SizePlan } from './layer-size.ts';
import { TarChecker } from './tar-check.ts';
import type { Descriptor } from './manifest.ts';
import { type LayerCompression, MediaType, isForeignLayer, layerCompression } from './media-types.ts';
import { familiarName, formatReference, type ImageReference } from './reference.ts';
import { type ResolveOptions, type ResolvedImage, resolve } from './resolve.ts';
import { resumableBody } from './transport/resume.ts';
import { type EntryWriter, TarWriter } from './tar.ts';

export type LayerMode = 'uncompressed' | 'as-pulled';

export interface PullOptions extends ResolveOptions {
  /** `uncompressed` (default): layers gunzipped and named by diff_id, as `docker save` writes them.
   *  `as-pulled`: blobs exactly as served, keeping the registry's manifest digest — smaller and faster. */
  layers?: LayerMode;
  onProgress?: (progress: PullProgress) => void;
  /** The most one layer may inflate to (default 64 GiB): bounds a gzip bomb without refusing zeros. */
  maxLayerBytes?: number;
  /** Milliseconds between progress events while bytes flow (state changes are always reported). */
  progressIntervalMs?: number;
  /** A blob download that sends nothing for this long is cut and resumed (default 60 s). */
  idleTimeoutMs?: number;
  /** A blob download slower than this over an `idleTimeoutMs` is cut and resumed too (default 1024 B/s). */
  minBytesPerSecond?: number;
  /** Where inflated layers are hashed: a hasher on another thread lets hashing and inflating use two cores.
   *  Its `update` must be done with the bytes when it settles: the engine reuses its buffers after that. */
  layerSha256?: Sha256Factory;
  /** The sink receives the archive in writes of this many bytes (default 1 MiB), each a fresh buffer it
   *  may keep or transfer; smaller only at the end and when bytes were held for half a second. */
  writeChunkBytes?: number;
  /** as-pulled only: `false` skips inflating each layer to check its diff_id (and its tar structure);
   *  blob digests are still verified. Much faster for large layers, but an image whose config does not
   *  match its layers is then only found out by `docker load`. Default true. */
  verifyDiffIds?: boolean;
}

export type LayerState = 'waiting' | 'downloading' | 'verifying' | 'done' | 'shared';

export interface LayerProgress {
  image: number;
  digest: string;
  mediaType: string;
  /** Bytes of the blob as served. */
  size: number;
  /** Bytes of the blob received so far (a measuring pass counts too, so it can exceed size). */
  received: number;
  state: LayerState;
  /** While a stalled or cut download is being picked up again: why. */
  stalled?: string;
}

export interface PullProgress {
  layers: LayerProgress[];
  /** Blob bytes received / expected over the whole pull. */
  received: number;
  expected: number;
  /** Bytes written to the archive so far. */
  written: number;
}

export interface PulledImage {
  reference: string;
  repoTags: string[];
  /** The image ID docker shows: the config digest. */
  configDigest: string;
  manifestDigest: string;
  platform: string;
}

export interface PullResult {
  images: PulledImage[];
  bytesWritten: number;
  /** Things the user should know (an untagged image, a layer kept compressed and why). */
  notes: string[];
}

const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
const DEFAULT_WRITE_CHUNK = 2 ** 20;
/** Written bytes go out at least this often, so the first bytes reach the file at once. */
const WRITE_HOLD_MS = 500;
/** How much compressed input may be held to look at a gzip layer before its tar header is written. */
const LOOKAHEAD_INPUT = 8 * 2 ** 20;
const LOOKAHEAD_OUTPUT = 64 * 2 ** 20;

/** Resolves every reference, then writes one archive holding all of them to `sink`. */
export async function pull(
  inputs: (string | ImageReference | ResolvedImage)[],
  sink: WritableStream<Uint8Array>,
  options: PullOptions = {},
): Promise<PullResult> {
  const writer = sink.getWriter();
  try {
    if (inputs.length === 0) throw new SkiffError('invalid-argument', 'Name at least one image to pull');
    const images: ResolvedImage[] = [];
    for (const input of inputs) images.push(isResolved(input) ? input : await resolve(input, options));
    const result = await new PullRun(images, writer, options).run();
    await writer.close();
    return result;
  } catch (error) {
    const failure = options.signal?.aborted ? abortError(options.signal) : error;
    await writer.abort(failure).catch(() => {});
    throw failure;
  }
}

function isResolved(input: unknown): input is ResolvedImage {
  return typeof input === 'object' && input !== null && 'manifest' in input && 'client' in input;
}

/** How the archive holds a layer: as served by the registry, or inflated and named by its diff_id. */
interface ArchivedLayer {
  descriptor: Descriptor;
  asServed: boolean;
}

interface LayerJob {
  image: ResolvedImage;
  descriptor: Descriptor;
  diffId: string;
  compression: LayerCompression;
  progress: LayerProgress;
}

class PullRun {
  private readonly mode: LayerMode;
  private readonly tar: TarWriter;
  private readonly chunks: ChunkWriter;
  private readonly archive: ArchiveWriter;
  private readonly progress: PullProgress;
  private readonly notes: string[] = [];
  /** Layers already in the archive, by blob digest and by diff_id: shared layers are stored once. */
  private readonly archived = new Map<string, ArchivedLayer>();
  private lastEmit = 0;

  constructor(
    private readonly images: ResolvedImage[],
    writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly options: PullOptions,
  ) {
    this.mode = options.layers ?? 'uncompressed';
    this.chunks = new ChunkWriter(
      (chunk) => writer.write(chunk),
      options.writeChunkBytes ?? DEFAULT_WRITE_CHUNK,
      WRITE_HOLD_MS,
    );
    this.tar = new TarWriter({ write: (chunk) => this.chunks.write(chunk) });
    this.archive = new ArchiveWriter(this.tar);
    const layers: LayerProgress[] = [];
    const seen = new Set<string>();
    images.forEach((image, i) => {
      for (const { descriptor } of image.layers) {
        const shared = seen.has(descriptor.digest);
        seen.add(descriptor.digest);
        layers.push({
          image: i,
          digest: descriptor.digest,
          mediaType: descriptor.mediaType,
          size: descriptor.size,
          received: 0,
          state: shared ? 'shared' : 'waiting',
        });
      }
    });
    const expected = layers.filter((l) => l.state !== 'shared').reduce((s, l) => s + l.size, 0);
    this.progress = { layers, received: 0, expected, written: 0 };
  }

  async run(): Promise<PullResult> {
    this.emit(true);
    await this.archive.start();
    let layerIndex = 0;
    const pulled: PulledImage[] = [];
    for (const image of this.images) {
      await this.archive.addBlob(image.config.digest, image.config.bytes);
      const archived: ArchivedLayer[] = [];
      for (const { descriptor, diffId } of image.layers) {
        const progress = this.progress.layers[layerIndex++]!;
        const compression = layerCompression(descriptor.mediaType)!;
        archived.push(await this.layer({ image, descriptor, diffId, compression, progress }));
      }
      const manifest = await this.writeManifest(image, archived);
      const entry = this.describe(image, manifest);
      this.archive.addImage(entry);
      pulled.push({
        reference: formatReference(image.reference),
        repoTags: entry.repoTags,
        configDigest: image.config.digest,
        manifestDigest: image.manifest.digest,
        platform: [image.platform.os, image.platform.architecture, image.platform.variant].filter(Boolean).join('/'),
      });
    }
    await this.archive.finish();
    await this.chunks.flush();
    this.progress.written = this.tar.bytesWritten;
    this.emit(true);
    return { images: pulled, bytesWritten: this.tar.bytesWritten, notes: this.notes };
  }

  /** Writes one layer (or finds it already written) and returns how the archive holds it. */
  private async layer(job: LayerJob): Promise<ArchivedLayer> {
    const { descriptor, diffId, progress } = job;
    const previous =
      this.archived.get(descriptor.digest) ?? (this.mode === 'uncompressed' ? this.archived.get(diffId) : undefined);
    if (previous) {
      this.setState(progress, 'shared');
      return previous;
    }
    this.setState(progress, 'downloading');
    let archived: ArchivedLayer;
    if (this.mode === 'as-pulled' || job.compression === 'none') {
      await this.copy(job, (size) => this.archive.beginBlob(descriptor.digest, size), 'compressed', descriptor.size);
      archived = { descriptor, asServed: true };
    } else {
      let plan = await this.planSize(job);
      if (plan.kind === 'measure')
        plan = { kind: 'exact', size: (await this.copy(job, undefined, 'uncompressed')).size };
      // Without a trusted size, a layer that ends within the look-ahead is still counted exactly.
      const planned = plan.kind === 'exact' ? plan.size : undefined;
      const written = await this.copy(
        job,
        (n) => this.archive.beginBlob(diffId, n),
        'uncompressed',
        planned,
        true,
        plan.kind === 'keep-compressed' ? plan.reason : undefined,
      );
      archived =
        written.output === 'compressed'
          ? { descriptor, asServed: true }
          : { descriptor: { mediaType: MediaType.ociLayer, digest: diffId, size: written.size }, asServed: false };
    }
    this.archived.set(descriptor.digest, archived);
    this.archived.set(diffId, archived);
    this.setState(progress, 'done');
    return archived;
  }

  private async planSize(job: LayerJob): Promise<SizePlan> {
    if (job.compression !== 'gzip') return planLayerSize(job.descriptor, job.compression, undefined);
    const tail =
      isForeignLayer(job.descriptor.mediaType) && job.descriptor.urls?.length
        ? undefined
        : await job.image.client.blobTail(
            job.image.reference.repository,
            job.descriptor.digest,
            job.descriptor.size,
            8,
            this.options.signal,
          );
    return planLayerSize(job.descriptor, job.compression, tail);
  }

  /**
   * Streams one blob, hashing what arrives and (for layers) what it inflates to, and verifies both at the
   * end. `begin(size)` opens the archive entry; without it the pass only measures. `output` says whether the
   * entry receives the blob as served or inflated. For a gzip layer written inflated, the first few MiB are
   * looked at before the entry opens: a second gzip member there means ISIZE cannot be trusted, and a layer
   * that ends within them has its size counted exactly.
   */
  private async copy(
    job: LayerJob,
    begin: ((size: number) => Promise<EntryWriter>) | undefined,
    output: 'compressed' | 'uncompressed',
    plannedSize?: number,
    lookahead = false,
    /** Why the size is unknown ahead; the layer is kept compressed unless the look-ahead counts it. */
    unknownSizeReason?: string,
  ): Promise<{ size: number; output: 'compressed' | 'uncompressed' }> {
    const { descriptor, diffId, progress } = job;
    const what = `Layer ${descriptor.digest}`;
    const signal = this.options.signal;
    const open = (offset: number) => this.openLayer(job, offset);
    let source: AsyncIterable<Uint8Array> = resumableBody(open, {
      size: descriptor.size,
      what,
      ...(signal ? { signal } : {}),
      ...(this.options.idleTimeoutMs ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
      ...(this.options.minBytesPerSecond !== undefined ? { minBytesPerSecond: this.options.minBytesPerSecond } : {}),
      onStall: (reason) => {
        if (reason === undefined) delete progress.stalled;
        else progress.stalled = reason;
        this.emit(true);
      },
    });
    let size = plannedSize;

    // Bytes the look-ahead already reported as received; they come again through the replay.
    let reported = 0;
    if (lookahead && job.compression === 'gzip') {
      const look = await lookAhead(source, what, this.maxLayerBytes, (n) => {
        reported += n;
        this.received(progress, n);
      });
      source = look.replay;
      const keepReason = look.multiMember
        ? 'multi-member gzip'
        : look.totalOutput === undefined
          ? unknownSizeReason
          : undefined;
      if (keepReason) {
        this.notes.push(
          `Layer ${descriptor.digest} is kept gzip-compressed in the archive (${keepReason}); docker load reads it as it is.`,
        );
        output = 'compressed';
        size = descriptor.size;
        begin = (n) => this.archive.beginBlob(descriptor.digest, n);
      } else if (look.totalOutput !== undefined) {
        size = look.totalOutput;
      }
    }

    const blobHash = await createSha256();
    // as-pulled may skip inflating (verifyDiffIds: false); a layer written inflated never does.
    const inflate =
      this.mode !== 'as-pulled' || this.options.verifyDiffIds !== false || output === 'uncompressed' || !begin;
    // For a layer kept as served, both digests cover mostly the same bytes; the inflated side is the big one.
    const diffHash = inflate ? await (this.options.layerSha256 ?? createSha256)() : undefined;
    const decoder = inflate ? makeDecoder(job.compression, what) : undefined;
    const limit = new OutputLimit(this.maxLayerBytes, what);
    const tar = new TarChecker(what);
    const entry = begin && size !== undefined ? await begin(size) : undefined;
    let inflated = 0;
    const take = async (chunks: Iterable<Uint8Array>) => {
      for (const out of limit.count(chunks)) {
        tar.push(out);
        await diffHash!.update(out);
        inflated += out.byteLength;
        if (entry && output === 'uncompressed') await entry.write(out);
      }
    };
    for await (const chunk of source) {
      if (signal?.aborted) throw abortError(signal);
      blobHash.update(chunk);
      if (entry && output === 'compressed') await entry.write(chunk);
      if (decoder) await take(decoder.push(chunk));
      const replayed = Math.min(reported, chunk.byteLength);
      reported -= replayed;
      this.received(progress, chunk.byteLength - replayed);
    }
    if (decoder) {
      await take(decoder.finish());
      tar.finish();
    }
    this.setState(progress, 'verifying');
    verifyDigest(await blobHash.digest(), descriptor.digest, what);
    if (diffHash) verifyDigest(await diffHash.digest(), diffId, `${what} (uncompressed, diff_id)`);
    if (entry) {
      if (output === 'uncompressed' && inflated !== size) {
        throw new SkiffError(
          'size-mismatch',
          `${what} inflates to ${inflated} bytes, not the ${size} its gzip trailer promised; pull with the as-pulled layer mode instead`,
        );
      }
      await entry.end();
    }
    return { size: inflated, output };
  }

  private get maxLayerBytes(): number {
    return this.options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  }

  /** Foreign (non-distributable) layers come from their `urls`, without credentials; others from the registry. */
  private async openLayer(job: LayerJob, offset: number): Promise<Response> {
    const { image, descriptor } = job;
    const signal = this.options.signal;
    const urls = isForeignLayer(descriptor.mediaType)
      ? (descriptor.urls ?? []).filter((u) => /^https?:\/\//i.test(u))
      : [];
    if (urls.length === 0) {
      try {
        return await image.client.openBlob(image.reference.repository, descriptor.digest, offset, signal);
      } catch (error) {
        if (error instanceof SkiffError && error.code === 'not-found' && isForeignLayer(descriptor.mediaType)) {
          throw new SkiffError(
            'not-found',
            `Layer ${descriptor.digest} is a non-distributable (foreign) layer that lists no URL to fetch it from, and the registry does not hold it`,
          );
        }
        throw error;
      }
    }
    let lastError: unknown;
    for (const url of urls) {
      try {
        const response = await image.client.anonymousFetcher(url, {
          headers: offset ? { range: `bytes=${offset}-` } : {},
          ...(signal ? { signal } : {}),
        });
        if (response.ok) return response;
        lastError = new SkiffError('http', `Foreign layer URL ${url} answered HTTP ${response.status}`);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof SkiffError
      ? lastError
      : new SkiffError('network', `No URL of foreign layer ${descriptor.digest} could be fetched`, {
          cause: lastError,
        });
  }

  /** The manifest blob index.json points at: the registry's own when every layer is kept as served, else one naming the archive's layers. */
  private async writeManifest(image: ResolvedImage, layers: ArchivedLayer[]) {
    const layerDigests = layers.map((l) => l.descriptor.digest);
    if (layers.every((l) => l.asServed)) {
      await this.archive.addBlob(image.manifest.digest, image.manifest.bytes);
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
    await this.archive.addBlob(digest, bytes);
    return { mediaType: MediaType.ociManifest, digest, size: bytes.byteLength, layerDigests };
  }

  private describe(
    image: ResolvedImage,
    manifest: { mediaType: string; digest: string; size: number; layerDigests: string[] },
  ): ArchiveImage {
    const { reference } = image;
    const tagged = reference.tag !== undefined;
    if (!tagged) {
      this.notes.push(
        `${formatReference(reference)} was pulled by digest only, so it loads untagged: tag it with \`docker tag ${image.config.digest.slice(7, 19)} NAME:TAG\`.`,
      );
    }
    return {
      repoTags: tagged ? [`${familiarName(reference)}:${reference.tag}`] : [],
      ...(tagged
        ? { fullName: `${reference.registry}/${reference.repository}:${reference.tag}`, tag: reference.tag }
        : {}),
      configDigest: image.config.digest,
      layerDigests: manifest.layerDigests,
      manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
    };
  }

  private received(layer: LayerProgress, bytes: number): void {
    layer.received += bytes;
    this.progress.received += bytes;
    this.progress.written = this.tar.bytesWritten;
    this.emit(false);
  }

  private setState(layer: LayerProgress, state: LayerState): void {
    layer.state = state;
    this.emit(true);
  }

  private emit(force: boolean): void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < (this.options.progressIntervalMs ?? 100)) return;
    this.lastEmit = now;
    onProgress({ ...this.progress, layers: this.progress.layers.map((l) => ({ ...l })) });
  }
}

function makeDecoder(compression: LayerCompression, what: string): Decoder {
  // The copy loop is done with each chunk before it takes the next: one output buffer serves the whole layer.
  if (compression === 'gzip') return new GunzipDecoder(what, { reuseOutput: true });
  if (compression === 'zstd') return new ZstdDecoder(what);
  return new IdentityDecoder();
}

/** The OCI name for a layer type, for a manifest we write (Docker's names are not valid in an OCI manifest). */
function ociLayerType(mediaType: string): string {
  const compression = layerCompression(mediaType);
  if (mediaType.startsWith('application/vnd.oci.')) return mediaType;
  if (compression === 'gzip') return MediaType.ociLayerGzip;
  if (compression === 'zstd') return `${MediaType.ociLayer}+zstd`;
  return MediaType.ociLayer;
}

/**
 * Reads up to a few MiB of a gzip layer ahead, inflating it only to look: whether a second member starts
 * (then ISIZE describes only the last member) and, when the whole layer fits, its exact inflated size.
 * What was read is replayed in front of the rest, so the layer is still downloaded once.
 */
async function lookAhead(
  source: AsyncIterable<Uint8Array>,
  what: string,
  maxLayerBytes: number,
  onReceived: (bytes: number) => void,
) {
  const iterator = source[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  const probe = new GunzipDecoder(what, { reuseOutput: true });
  const limit = new OutputLimit(maxLayerBytes, what);
  let input = 0;
  let output = 0;
  let ended = false;
  while (input < LOOKAHEAD_INPUT && output < LOOKAHEAD_OUTPUT && !probe.multiMember) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    input += next.value.byteLength;
    onReceived(next.value.byteLength);
    // One network chunk of a layer of zeros can inflate to a GiB: stop looking as soon as enough is seen.
    for (const out of limit.count(probe.push(next.value))) {
      output += out.byteLength;
      if (output >= LOOKAHEAD_OUTPUT || probe.multiMember) break;
    }
  }
  if (ended) for (const out of limit.count(probe.finish())) output += out.byteLength;
  async function* replay() {
    yield* held;
    held.length = 0;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return {
    replay: replay(),
    multiMember: probe.multiMember,
    totalOutput: ended && !probe.multiMember ? output : undefined,
  };
}
