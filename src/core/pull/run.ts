/**
 * One pull: resolve every reference first (so most errors come before any byte is written), plan each
 * layer's action, then fetch in parallel (scheduler.ts) while the archive is written in order, each layer
 * through its stages (layer-copy.ts), verifying every blob's digest and each layer's diff_id on the way.
 * Progress events and an AbortSignal throughout. A failure aborts the sink: never a finished file that is wrong.
 */
import { ArchiveWriter } from '../archive.ts';
import { ChunkWriter } from '../chunks.ts';
import { createSha256 } from '../codecs/sha256.ts';
import { SkiffError, abortError } from '../errors.ts';
import { MediaType } from '../media-types.ts';
import { type ImageReference, formatReference } from '../reference.ts';
import { RegistryClient } from '../registry.ts';
import { type ResolvedImage, resolve } from '../resolve.ts';
import { TarWriter } from '../tar.ts';
import { type RateLimit, lowerRateLimit } from '../transport/rate-limit.ts';
import { waitPolicy } from '../transport/waits.ts';
import { type ArchivedLayer, describeImage, writeManifest } from './image-out.ts';
import { copyLayer } from './layer-copy.ts';
import { lookAhead, lookAheadZstd, readTrailers, settleBeforeLookahead } from './lookahead.ts';
import { type PlannedLayer, blobReads, planPull } from './plan.ts';
import { ProgressTracker } from './progress.ts';
import { FetchScheduler, RangeSupport, type ScheduledRead } from './scheduler.ts';
import { blobHost, layerOpener } from './source.ts';
import type { LayerMode, PulledImage, PullOptions, PullResult } from './types.ts';

const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
const DEFAULT_WRITE_CHUNK = 2 ** 20;
/** Written bytes go out at least this often, so the first bytes reach the file at once. */
const WRITE_HOLD_MS = 500;
export const DEFAULT_PARALLEL = 4;
/**
 * Measured with the CLI (README, Parallel downloads): each MiB of budget costs about 1.3 MiB of RSS where
 * the CPU is the limit (freed chunks wait for the GC), while on a far link (150 ms, 4 MB/s per connection)
 * no more than ~30 MiB was ever waiting, even with 64 allowed. 32 MiB in 4 MiB segments keeps 4 connections
 * busy with a second segment each queued, as fast there as 64 MiB in 8 MiB segments and ~33 MB less RSS;
 * 8 MiB segments in 32 MiB left fewer requests in flight and the far pull ~15 % slower.
 */
const DEFAULT_MEMORY_BUDGET = 32 * 2 ** 20;
const DEFAULT_SEGMENT = 4 * 2 ** 20;

/** Resolves every reference, then writes one archive holding all of them to `sink`. */
export async function pull(
  inputs: (string | ImageReference | ResolvedImage)[],
  sink: WritableStream<Uint8Array>,
  options: PullOptions = {},
): Promise<PullResult> {
  const writer = sink.getWriter();
  try {
    if (inputs.length === 0) throw new SkiffError('invalid-argument', 'Name at least one image to pull');
    const parallel = options.parallel ?? DEFAULT_PARALLEL;
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
      throw new SkiffError('invalid-argument', `parallel must be a whole number from 1 to 64, not ${parallel}`);
    const images: ResolvedImage[] = [];
    // The same reference named twice is resolved once: manifests are fetched once per pull.
    const resolved = new Map<string, ResolvedImage>();
    // One client per registry: its tokens (one per scope) and what it showed about Range serve every image.
    const clients = new Map<string, RegistryClient>();
    const clientFor = (registry: string) => {
      let client = clients.get(registry);
      if (!client) clients.set(registry, (client = new RegistryClient(registry, options)));
      return client;
    };
    for (const input of inputs) {
      if (isResolved(input)) {
        images.push(input);
        continue;
      }
      const key = typeof input === 'string' ? input : formatReference(input);
      const image = resolved.get(key) ?? (await resolve(input, { clientFor, ...options }));
      resolved.set(key, image);
      images.push(image);
    }
    const result = await new PullRun(images, writer, { ...options, parallel }).run();
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

class PullRun {
  private readonly mode: LayerMode;
  private readonly tar: TarWriter;
  private readonly chunks: ChunkWriter;
  private readonly archive: ArchiveWriter;
  private readonly plan: PlannedLayer[];
  private readonly progress: ProgressTracker;
  private readonly scheduler: FetchScheduler;
  /** Index of each layer's first blob read in the scheduler. */
  private readonly firstRead: number[] = [];
  private readonly archived: ArchivedLayer[] = [];
  private readonly notes: string[] = [];
  private trailerRequests = 0;

  constructor(
    private readonly images: ResolvedImage[],
    writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly options: PullOptions & { parallel: number },
  ) {
    this.mode = options.layers ?? 'uncompressed';
    this.chunks = new ChunkWriter(
      (chunk) => writer.write(chunk),
      options.writeChunkBytes ?? DEFAULT_WRITE_CHUNK,
      WRITE_HOLD_MS,
    );
    this.tar = new TarWriter({ write: (chunk) => this.chunks.write(chunk) });
    this.archive = new ArchiveWriter(this.tar);
    this.plan = planPull(images, this.mode, { verifyDiffIds: options.verifyDiffIds !== false });
    this.progress = new ProgressTracker(
      this.plan,
      () => this.tar.bytesWritten,
      options.onProgress,
      options.progressIntervalMs ?? 100,
    );
    const rangeSupport = new Map<RegistryClient, RangeSupport>();
    const reads: ScheduledRead[] = [];
    this.plan.forEach((layer, index) => {
      this.firstRead.push(reads.length);
      const image = images[layer.image]!;
      let range = rangeSupport.get(image.client);
      if (!range) rangeSupport.set(image.client, (range = new RangeSupport()));
      for (let n = blobReads(layer); n > 0; n--) {
        reads.push({
          size: layer.descriptor.size,
          what: `Layer ${layer.descriptor.digest}`,
          host: blobHost(image, layer.descriptor),
          open: layerOpener(image, layer.descriptor),
          // Foreign URLs are read whole: nothing says the host behind them serves ranges.
          range: layer.foreign ? undefined : range,
          onBytes: (bytes) => this.progress.received(index, bytes),
          onStall: (reason) => this.progress.stalled(index, reason),
        });
      }
    });
    this.scheduler = new FetchScheduler(reads, {
      parallel: options.parallel,
      memoryBudgetBytes: options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET,
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT,
      waits: waitPolicy(options),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async run(): Promise<PullResult> {
    try {
      this.progress.rateLimit = this.rateLimit();
      this.progress.emit(true);
      this.scheduler.start();
      const [trailers] = await Promise.all([
        readTrailers(this.plan, this.images, this.options.parallel, this.options.signal, () => this.trailerRequests++),
        this.archive.start(),
      ]);
      const pulled: PulledImage[] = [];
      let index = 0;
      for (const image of this.images) {
        await this.archive.addBlob(image.config.digest, image.config.bytes);
        const layers: ArchivedLayer[] = [];
        for (let n = 0; n < image.layers.length; n++, index++)
          layers.push(await this.layer(index, trailers.get(index)));
        const manifest = await writeManifest(this.archive, image, layers);
        const { entry, note } = describeImage(image, manifest);
        if (note) this.notes.push(note);
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
      const rateLimit = this.rateLimit();
      this.progress.rateLimit = rateLimit;
      this.progress.emit(true);
      return {
        images: pulled,
        bytesWritten: this.tar.bytesWritten,
        notes: this.notes,
        ...(rateLimit ? { rateLimit } : {}),
        transfer: {
          requests: this.scheduler.requests + this.trailerRequests,
          peakBufferedBytes: this.scheduler.peakBufferedBytes,
          singleStreamFallbacks: this.scheduler.fallbacks,
        },
      };
    } finally {
      this.scheduler.close();
    }
  }

  /** The lowest quota left that any registry of this pull reported. */
  private rateLimit(): RateLimit | undefined {
    return this.images.reduce<RateLimit | undefined>(
      (low, image) => lowerRateLimit(low, image.client.rateLimit),
      undefined,
    );
  }

  /** Writes one layer (or finds it already written) and returns how the archive holds it. */
  private async layer(index: number, trailer: Uint8Array | undefined): Promise<ArchivedLayer> {
    const layer = this.plan[index]!;
    if (layer.sharedWith !== undefined) {
      this.progress.state(index, 'shared');
      return this.archived[layer.sharedWith]!;
    }
    this.progress.state(index, 'downloading');
    const what = `Layer ${layer.descriptor.digest}`;
    const read = this.firstRead[index]!;
    const action = layer.action;
    let archived: ArchivedLayer;
    if (action.kind === 'as-served') {
      archived = await this.asServed(index, this.scheduler.stream(read), action.verifyDiffId);
    } else if (action.kind === 'measure-then-inflate') {
      const look = await lookAheadZstd(this.scheduler.stream(read), action.fetchedOnce);
      let size = look.size;
      if (size === undefined) {
        const measured = await copyLayer(
          look.again?.() ?? this.scheduler.again(read),
          {
            what,
            blobDigest: layer.descriptor.digest,
            blobHash: await createSha256(),
            inflate: await this.inflateSpec(layer),
          },
          this.copyOptions(index),
        );
        size = measured.inflatedBytes;
      }
      const source = action.fetchedOnce ? look.again!() : this.scheduler.stream(read + 1);
      const sizeFrom = look.size === undefined ? 'the pass that measured it' : 'its zstd frame headers';
      archived = await this.inflated(index, source, size, sizeFrom);
    } else {
      let settled = settleBeforeLookahead(layer, action, trailer);
      let source: AsyncIterable<Uint8Array> = this.scheduler.stream(read);
      if (layer.compression === 'gzip')
        ({ action: settled, source } = await lookAhead(source, settled, what, this.maxLayerBytes));
      if (settled.kind === 'keep-compressed') {
        this.notes.push(
          `${what} is kept gzip-compressed in the archive (${settled.reason}); docker load reads it as it is.`,
        );
        archived = await this.asServed(index, source, true);
      } else {
        if (settled.size === undefined) throw new Error(`${what}: no size settled for an inflated layer`);
        archived = await this.inflated(index, source, settled.size);
      }
    }
    this.archived[index] = archived;
    this.progress.state(index, 'done');
    return archived;
  }

  private async asServed(
    index: number,
    source: AsyncIterable<Uint8Array>,
    verifyDiffId: boolean,
  ): Promise<ArchivedLayer> {
    const layer = this.plan[index]!;
    const { descriptor } = layer;
    const entry = await this.archive.beginBlob(descriptor.digest, descriptor.size);
    await copyLayer(
      source,
      {
        what: `Layer ${descriptor.digest}`,
        blobDigest: descriptor.digest,
        blobHash: await createSha256(),
        ...(verifyDiffId ? { inflate: await this.inflateSpec(layer) } : {}),
        write: { entry, takes: 'blob' },
      },
      this.copyOptions(index),
    );
    await entry.end();
    return { descriptor, asServed: true };
  }

  /** `sizeFrom`: what promised `size`, when it was not counted by inflating (the copy then proves it). */
  private async inflated(
    index: number,
    source: AsyncIterable<Uint8Array>,
    size: number,
    sizeFrom = 'its gzip trailer',
  ): Promise<ArchivedLayer> {
    const layer = this.plan[index]!;
    const entry = await this.archive.beginBlob(layer.diffId, size);
    await copyLayer(
      source,
      {
        what: `Layer ${layer.descriptor.digest}`,
        blobDigest: layer.descriptor.digest,
        blobHash: await createSha256(),
        inflate: { ...(await this.inflateSpec(layer)), size, sizeFrom },
        write: { entry, takes: 'inflated' },
      },
      this.copyOptions(index),
    );
    await entry.end();
    return { descriptor: { mediaType: MediaType.ociLayer, digest: layer.diffId, size }, asServed: false };
  }

  private async inflateSpec(layer: PlannedLayer) {
    return {
      compression: layer.compression,
      diffId: layer.diffId,
      // For a layer kept as served both digests cover mostly the same bytes; the inflated side is the big one.
      hash: await (this.options.layerSha256 ?? createSha256)(),
      maxBytes: this.maxLayerBytes,
    };
  }

  private copyOptions(index: number) {
    return {
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      onDrained: () => this.progress.state(index, 'verifying'),
    };
  }

  private get maxLayerBytes(): number {
    return this.options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  }
}
