/**
 * The transfer into an archive (a pull): with every image resolved first (pull.ts, so most errors come
 * before any byte is written), plan each layer's action, then fetch in parallel from the registry
 * (scheduler.ts over source.ts) while the archive is written in order, each layer through its stages
 * (layer-copy.ts), verifying every blob's digest (and each inflated layer's diff_id) on the way. Each image
 * comes with its platforms (registry/resolve-set.ts): their blobs, then the index that names them. Progress
 * events and an AbortSignal throughout. A failure aborts the sink (pull.ts): never a finished file that is wrong.
 */
import type { ArchiveDestination } from '../archive/writer.ts';
import { createSha256 } from '../codecs/sha256.ts';
import { MediaType } from '../image/media-types.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { RegistryClients } from '../registry/pool.ts';
import type { ResolvedImage } from '../registry/resolve.ts';
import type { ResolvedSet } from '../registry/resolve-set.ts';
import { addSet } from '../archive/index-entry.ts';
import type { RateLimit } from '../registry/transport/rate-limit.ts';
import { waitPolicy } from '../registry/transport/waits.ts';
import { type ArchivedLayer, type WrittenManifest, writeManifest } from '../archive/image-entry.ts';
import { type CopyOptions, copyLayer } from './layer-copy.ts';
import { lookAhead, lookAheadZstd, readTrailers, settleBeforeLookahead, zstdNote } from './lookahead.ts';
import { type PlannedLayer, blobReads, planPull, pullRows } from './plan.ts';
import { ProgressReporter } from './progress.ts';
import { FetchScheduler, RangeSupport, type ScheduledRead } from './scheduler.ts';
import { blobHost, layerOpener } from './blob-fetch.ts';
import type { LayerMode, PullOptions, PullResult, TransferredImage } from './types.ts';

const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;
export const DEFAULT_PARALLEL = 4;
/**
 * Measured with the CLI (README, Parallel downloads): each MiB of budget cost about 1.3 MiB of RSS where
 * the CPU is the limit (before reads went into pooled pieces, freed chunks waited for the GC), while on a far link (150 ms, 4 MB/s per connection)
 * no more than ~30 MiB was ever waiting, even with 64 allowed. 32 MiB in 4 MiB segments keeps 4 connections
 * busy with a second segment each queued, as fast there as 64 MiB in 8 MiB segments and ~33 MB less RSS;
 * 8 MiB segments in 32 MiB left fewer requests in flight and the far pull ~15 % slower.
 */
const DEFAULT_MEMORY_BUDGET = 32 * 2 ** 20;
const DEFAULT_SEGMENT = 4 * 2 ** 20;

/** One pull's run: its images resolved, its clients, where it writes (pull.ts finishes or aborts it). */
export class ArchiveTransfer {
  private readonly mode: LayerMode;
  private readonly plan: PlannedLayer[];
  private readonly progress: ProgressReporter;
  private readonly scheduler: FetchScheduler;
  /** Index of each layer's first blob read in the scheduler. */
  private readonly firstRead: number[] = [];
  private readonly archived: ArchivedLayer[] = [];
  private readonly notes: string[] = [];
  private trailerRequests = 0;
  /** Every platform's image of every set, in archive order. */
  private readonly images: ResolvedImage[];

  constructor(
    private readonly sets: ResolvedSet[],
    private readonly clients: RegistryClients,
    private readonly archive: ArchiveDestination,
    private readonly options: PullOptions & { parallel: number },
  ) {
    const images = (this.images = sets.flatMap((set) => set.images));
    this.mode = options.layers ?? 'kept';
    this.plan = planPull(images, this.mode, {
      verifyDiffIds: options.verifyDiffIds !== false,
      ...(options.checkDiffIds ? { checkDiffIds: true } : {}),
    });
    this.progress = new ProgressReporter(
      pullRows(this.plan),
      options.onProgress,
      options.progressIntervalMs ?? 100,
      () => this.archive.bytesWritten,
    );
    const rangeSupport = new Map<RegistryClient, RangeSupport>();
    const reads: ScheduledRead[] = [];
    this.plan.forEach((layer, index) => {
      this.firstRead.push(reads.length);
      const image = images[layer.image]!;
      const client = clients.for(image.reference.registry);
      let range = rangeSupport.get(client);
      if (!range) rangeSupport.set(client, (range = new RangeSupport()));
      for (let n = blobReads(layer); n > 0; n--) {
        reads.push({
          size: layer.descriptor.size,
          what: `Layer ${layer.descriptor.digest}`,
          host: blobHost(client, layer.descriptor),
          open: layerOpener(client, image.reference.repository, layer.descriptor),
          // Foreign URLs are read whole: nothing says the host behind them serves ranges.
          range: layer.foreign ? undefined : range,
          onBytes: (bytes) => this.progress.moved(index, bytes),
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
        readTrailers(
          this.plan,
          this.images,
          this.clients,
          this.options.parallel,
          this.options.signal,
          () => this.trailerRequests++,
        ),
        this.archive.start(),
      ]);
      const pulled: TransferredImage[] = [];
      let index = 0;
      for (const set of this.sets) {
        const written = new Map<string, WrittenManifest>();
        for (const image of set.images) {
          await this.archive.addBlob(image.config.digest, image.config.bytes);
          const layers: ArchivedLayer[] = [];
          for (let n = 0; n < image.layers.length; n++, index++)
            layers.push(await this.layer(index, trailers.get(index)));
          written.set(image.manifest.digest, await writeManifest(this.archive, image, layers));
        }
        for (const artifact of set.artifacts) {
          for (const blob of artifact.blobs) await this.archive.addBlob(blob.digest, blob.bytes);
          await this.archive.addBlob(artifact.descriptor.digest, artifact.bytes);
        }
        pulled.push(...(await addSet(this.archive, set, written, this.notes, this.options.loadPlatform)));
      }
      await this.archive.finish();
      const rateLimit = this.rateLimit();
      this.progress.rateLimit = rateLimit;
      this.progress.emit(true);
      const written = this.plan.filter((l) => l.sharedWith === undefined);
      return {
        images: pulled,
        copied: written.length,
        existing: 0,
        mounted: 0,
        bytes: this.plan.reduce((sum, l) => sum + (l.sharedWith === undefined ? l.descriptor.size : 0), 0),
        bytesWritten: this.archive.bytesWritten,
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
    return this.clients.rateLimit;
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
            inflate: await this.inflateSpec(index),
          },
          this.copyOptions(index),
        );
        size = measured.inflatedBytes;
      }
      const source = action.fetchedOnce ? look.again!() : this.scheduler.stream(read + 1);
      const sizeFrom = look.size === undefined ? 'the pass that measured it' : 'its zstd frame headers';
      archived = await this.inflated(index, source, size, sizeFrom);
      if (this.mode === 'kept') this.notes.push(zstdNote(what));
    } else {
      let settled = settleBeforeLookahead(layer, action, trailer);
      let source: AsyncIterable<Uint8Array> = this.scheduler.stream(read);
      const stated = action.kind === 'inflate' && action.sizeFrom === 'annotation';
      if (layer.compression === 'gzip')
        ({ action: settled, source } = await lookAhead(source, settled, what, this.maxLayerBytes, stated));
      if (settled.kind === 'keep-compressed') {
        this.notes.push(
          `${what} is kept gzip-compressed in the archive (${settled.reason}); docker load reads it as it is.`,
        );
        archived = await this.asServed(index, source, true);
      } else {
        if (settled.size === undefined) throw new Error(`${what}: no size settled for an inflated layer`);
        archived = await this.inflated(index, source, settled.size);
        if (this.mode === 'kept' && layer.compression === 'zstd') this.notes.push(zstdNote(what));
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
        ...(verifyDiffId ? { inflate: await this.inflateSpec(index) } : {}),
        write: { entry, takes: 'blob' },
      },
      this.copyOptions(index, true),
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
        inflate: { ...(await this.inflateSpec(index, size)), size, sizeFrom },
        write: { entry, takes: 'inflated' },
      },
      this.copyOptions(index, true),
    );
    await entry.end();
    return { descriptor: { mediaType: MediaType.ociLayer, digest: layer.diffId, size }, asServed: false };
  }

  /** `size`: what the layer inflates to, when known ahead. */
  private async inflateSpec(index: number, size?: number) {
    const layer = this.plan[index]!;
    const native = this.options.gunzip;
    const gunzip =
      size !== undefined && size >= (native?.maxRatio ?? Infinity) * layer.descriptor.size ? undefined : native;
    return {
      compression: layer.compression,
      diffId: layer.diffId,
      // For a layer kept as served both digests cover mostly the same bytes; the inflated side is the big one.
      hash: await (this.options.sha256 ?? createSha256)(),
      maxBytes: this.maxLayerBytes,
      // Where the host's gunzip stops (a second gzip member), pako takes over on the layer fetched again.
      ...(gunzip ? { native: { gunzip, restart: () => this.fetchAgain(index) } } : {}),
    };
  }

  /** The layer from its first byte once more; its progress counts from zero again, not past its size. */
  private fetchAgain(index: number): AsyncIterable<Uint8Array> {
    this.progress.restart(index);
    return this.scheduler.again(this.firstRead[index]!);
  }

  /** `last`: the copy is the last to read its chunks (not a pass that only measures a layer held to be read again). */
  private copyOptions(index: number, last = false): CopyOptions {
    return {
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      ...(last ? { release: (chunk: Uint8Array) => this.scheduler.reuse(chunk) } : {}),
      onDrained: () => this.progress.state(index, 'verifying'),
    };
  }

  private get maxLayerBytes(): number {
    return this.options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  }
}
