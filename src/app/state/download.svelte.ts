/**
 * The download: which images go into the file (the queue, or the image in the field), the file itself,
 * the engine's progress as table rows with speeds and times left, and the result.
 */
import { SkiffError } from '../../core/errors.ts';
import { formatPlatform } from '../../core/platform.ts';
import {
  type LayerMode,
  type LayerProgress,
  type PulledImage,
  type PullProgress,
  initialProgress,
  planPull,
} from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/resolve.ts';
import { type DownloadJob, writeArchive } from '../engine/engine.ts';
import { pageSha256 } from '../engine/hashing.ts';
import { asPulledArchiveSize } from '../../core/archive-size.ts';
import {
  type SaveMethod,
  type SaveTarget,
  cancelLeavesFiles,
  downloadMethod,
  openTarget,
  pickFile,
} from '../engine/save.ts';
import { outputStream } from '../engine/sink.ts';
import type { KitTar } from '../engine/zipkit.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import { archiveName, imageFileStem, uniqueNames } from '../lib/names.ts';
import { readRecent, rememberRecent } from '../lib/recent.ts';
import { alerts } from './alerts.svelte.ts';
import { type QueueItem, queue } from './queue.svelte.ts';
import { credentials } from './credentials.svelte.ts';
import { adviceAbout, displayName, resolver, transportOptions } from './resolve.svelte.ts';
import { hostWaits, settings } from './settings.svelte.ts';

export type ArchiveKind = 'tar' | 'zip';

/** A layer's progress as the table shows it; `image` is an index into the download's image list. */
export interface LayerRow extends LayerProgress {
  key: string;
  item: number;
  speed?: number;
  eta?: number;
}

export interface DownloadImage {
  name: string;
  platform: string;
}

export interface Running {
  kind: ArchiveKind;
  method: SaveMethod;
  fileName: string;
  images: DownloadImage[];
  rows: LayerRow[];
  received: number;
  expected: number;
  written: number;
  speed?: number;
  eta?: number;
  opening: boolean;
}

export interface Done {
  kind: ArchiveKind;
  method: SaveMethod;
  fileName: string;
  size: number;
  /** The whole file's sha256, when it was computed (the setting, or a zip kit). */
  sha256?: string;
  images: PulledImage[];
  notes: string[];
  tars?: KitTar[];
}

class Download {
  kind = $state<ArchiveKind>('tar');
  recent = $state.raw<string[]>([]);
  running = $state.raw<Running | undefined>(undefined);
  done = $state.raw<Done | undefined>(undefined);
  private controller: AbortController | undefined;

  init(): void {
    this.recent = readRecent();
  }

  /** The image in the field goes into the download too, unless it is already queued: it is never left out unsaid. */
  typedExtra = $derived.by(() => {
    const reference = resolver.parsed.reference;
    if (!reference) return false;
    const name = displayName(reference);
    return !queue.items.some((q) => q.name === name && q.platform === resolver.platformChoice);
  });

  /** How many images Download takes. */
  count: number = $derived(queue.items.length + (this.typedExtra ? 1 : 0));

  /**
   * About how large the file will be, in the chosen layer mode: layer blobs as served (as-pulled), or
   * inflated where the engine knows the size in advance, else as served; plus configs, manifests and tar headers.
   */
  estimate: number | undefined = $derived.by(() => {
    const typed = this.typedExtra ? resolver.resolvedFor(resolver.input, resolver.platformChoice) : undefined;
    if (this.typedExtra && !typed) return undefined;
    const images = [...queue.items.map((q) => q.resolved), ...(typed ? [typed] : [])];
    if (!images.length) return undefined;
    let bytes = 2048;
    for (const image of images)
      // Its config and manifest, and its share of the small files (manifest.json, index.json, repositories, oci-layout).
      bytes += entrySize(image.config.bytes.byteLength) + entrySize(image.manifest.bytes.byteLength) + 4096;
    // The engine's plan: which layers are stored once, and which go in inflated (and how large, where known).
    for (const layer of planPull(images, settings.current.layers)) {
      if (layer.sharedWith !== undefined) continue;
      const { action, descriptor } = layer;
      const inflated =
        action.kind === 'inflate' || action.kind === 'measure-then-inflate'
          ? ((action.kind === 'inflate' ? action.size : undefined) ?? resolver.layerSizes[descriptor.digest])
          : undefined;
      bytes += entrySize(inflated ?? descriptor.size);
    }
    return bytes;
  });

  suggestedName(kind: ArchiveKind): string {
    const stems = [
      ...queue.items.map((q) => imageFileStem(q.resolved.reference, q.resolved.platform, q.platform !== '')),
      ...(this.typedExtra ? resolver.currentStem() : []),
    ];
    return archiveName(stems, settings.current.outputName, kind);
  }

  /** Not while another runs, and not with a name in the field that is not valid (it would be left out). */
  canDownload(): boolean {
    return !this.running && this.count > 0 && resolver.parsed.error === undefined;
  }

  /**
   * Starts a download. With `pick`, the save dialog opens first — synchronously inside the click, as the
   * File System Access API requires a user gesture.
   */
  start(pick = false): Promise<void> {
    if (!this.canDownload()) return Promise.resolve();
    // Download is an explicit action: what the credential fields hold is signed in with now.
    credentials.signInAll();
    const kind = this.kind;
    const fileName = this.suggestedName(kind);
    const handlePromise = pick ? pickFile(fileName, kind) : undefined;
    return this.run(kind, fileName, handlePromise);
  }

  cancel(): void {
    this.controller?.abort(new SkiffError('aborted', 'The pull was cancelled.'));
  }

  private async run(
    kind: ArchiveKind,
    suggested: string,
    handlePromise: Promise<FileSystemFileHandle> | undefined,
  ): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const signal = controller.signal;
    const method: SaveMethod = handlePromise ? 'fsaccess' : downloadMethod(settings.current.saveMethod);
    this.done = undefined;
    alerts.failure = undefined;
    alerts.notice = undefined;
    this.running = {
      kind,
      method,
      fileName: suggested,
      images: [],
      rows: [],
      received: 0,
      expected: 0,
      written: 0,
      opening: true,
    };
    let target: SaveTarget | undefined;
    let handle: FileSystemFileHandle | undefined;
    let saving = false;
    try {
      if (handlePromise) {
        saving = true;
        handle = await handlePromise;
        saving = false;
      }
      const items = await this.items(signal);
      if (!items) {
        this.running = undefined;
        await removeFile(handle);
        return;
      }
      const fileName = handle?.name ?? suggested;
      const images = items.map((q) => q.resolved);
      const sha256 = await pageSha256();
      // The zip kit always carries its own checksum; a tar only when the setting asks for one.
      const hash = kind === 'zip' || settings.current.hashFile ? await sha256() : undefined;
      const progress = new ProgressTracker(kind, images, settings.current.layers);
      let written = 0;
      const publish = () => {
        if (!this.running) return;
        this.running = { ...this.running, ...progress.view(), written, opening: false };
      };
      this.running = {
        ...this.running!,
        fileName,
        images: items.map((q) => ({ name: q.name, platform: formatPlatform(q.resolved.platform) })),
        ...progress.view(),
      };
      // An as-pulled tar's size is known before the first byte: the browser is told, so a short file fails.
      const size =
        kind === 'tar' && settings.current.layers === 'as-pulled' ? await asPulledArchiveSize(images) : undefined;
      saving = true;
      target = await openTarget(method, fileName, handle, size);
      saving = false;
      const writeTimeout = settings.host.writeTimeoutSeconds;
      const sink = outputStream(target.writable, {
        hash,
        signal,
        ...(size !== undefined ? { expectedSize: size } : {}),
        ...(writeTimeout ? { writeTimeoutMs: writeTimeout * 1000 } : {}),
        onWritten: (n) => {
          written = n;
          publish();
        },
      });
      publish();
      // The engine runs in its own worker (fetch, verify, inflate, tar); this thread keeps the page and the file.
      const job = this.job(kind, items);
      const result = await writeArchive(job, sink, {
        signal,
        transport: transportOptions(),
        onProgress: (i, p) => {
          progress.update(i, p);
          publish();
        },
      });
      const pulled = 'tars' in result ? result.results : [result];
      this.running = undefined;
      this.done = {
        kind,
        method,
        fileName,
        size: written,
        sha256: await hash?.digest(),
        images: pulled.flatMap((r) => r.images),
        notes: pulled.flatMap((r) => r.notes),
        ...('tars' in result ? { tars: result.tars } : {}),
      };
      this.recent = rememberRecent(items.map((q) => q.name));
    } catch (error) {
      this.running = undefined;
      const registry = queue.items[0]?.resolved.reference.registry ?? resolver.parsed.reference?.registry ?? '';
      alerts.failure = adviceAbout(signal.aborted ? signal.reason : error, undefined, {
        saving,
        registry,
        cancelLeavesFiles: cancelLeavesFiles(method),
      });
      // The picker created the file; a download that did not finish must not leave it behind.
      await removeFile(handle);
    } finally {
      target?.dispose();
      if (this.controller === controller) this.controller = undefined;
    }
  }

  private job(kind: ArchiveKind, items: QueueItem[]): DownloadJob {
    const stall = settings.host.stallTimeoutSeconds;
    const common = {
      images: items.map((q) => q.resolved),
      layers: settings.current.layers,
      ...(stall ? { idleTimeoutMs: stall * 1000 } : {}),
      ...hostWaits(),
      parallel: settings.current.parallel,
    };
    if (kind === 'tar') return { kind, ...common };
    const stems = items.map((q) => imageFileStem(q.resolved.reference, q.resolved.platform, q.platform !== ''));
    return { kind, tarNames: uniqueNames(stems, '.tar'), ...common };
  }

  /** The images to pull: the queue and the image in the field; stale ones resolved again with today's settings. */
  private async items(signal: AbortSignal): Promise<QueueItem[] | undefined> {
    const queued = queue.items.length ? await queue.fresh(signal) : [];
    if (!this.typedExtra) return queued;
    const platform = resolver.platformChoice;
    // A name that does not resolve stops the download with its alert, rather than being dropped.
    const image = await resolver.ensureResolved();
    if (!image || signal.aborted) return undefined;
    return [...queued, queue.itemFor(image, platform)];
  }
}

/** Turns the engine's progress events into table rows with speeds and ETAs, for one archive or a kit. */
export class ProgressTracker {
  private readonly snapshots: PullProgress[];
  private readonly meters = new Map<string, SaneRate>();
  private readonly total = new SaneRate();

  constructor(
    private readonly kind: ArchiveKind,
    images: ResolvedImage[],
    mode: LayerMode,
  ) {
    // Before the engine reports, rows come from the engine's own plan: one tar holds every image (shared
    // layers once); a kit holds one tar per image.
    const plan = (list: ResolvedImage[]): PullProgress => initialProgress(planPull(list, mode));
    this.snapshots = kind === 'zip' ? images.map((image) => plan([image])) : [plan(images)];
  }

  update(index: number, progress: PullProgress): void {
    this.snapshots[index] = progress;
  }

  view(now = performance.now()): Pick<Running, 'rows' | 'received' | 'expected' | 'speed' | 'eta'> {
    const rows: LayerRow[] = [];
    this.snapshots.forEach((snapshot, item) => {
      snapshot.layers.forEach((layer, i) => {
        const key = `${item}/${i}`;
        let speed: number | undefined;
        if (layer.state === 'downloading') {
          let meter = this.meters.get(key);
          if (!meter) this.meters.set(key, (meter = new SaneRate()));
          meter.add(layer.received, now);
          speed = meter.rate();
        }
        const eta = speed !== undefined ? this.meters.get(key)!.eta(layer.size - layer.received, now) : undefined;
        rows.push({
          key,
          item,
          image: this.kind === 'zip' ? item : layer.image,
          digest: layer.digest,
          mediaType: layer.mediaType,
          size: layer.size,
          received: Math.min(layer.received, layer.size),
          state: layer.state,
          ...(layer.stalled ? { stalled: layer.stalled } : {}),
          ...(speed !== undefined ? { speed } : {}),
          ...(eta !== undefined ? { eta } : {}),
        });
      });
    });
    const received = this.snapshots.reduce((s, p) => s + p.received, 0);
    const expected = this.snapshots.reduce((s, p) => s + p.expected, 0);
    this.total.add(received, now);
    const speed = this.total.rate();
    return {
      rows,
      received: Math.min(received, expected),
      expected,
      speed,
      eta: this.total.eta(Math.max(0, expected - received), now),
    };
  }
}

/** Bytes flowing for this long before a time left is said: the first readings are far off (start-up, slow start). */
export const ETA_AFTER_MS = 3000;

/**
 * A rate measured from the first byte on (not from the click: resolving, the worker's start and sign-in
 * would read as a slow line), and a time left only once bytes have flowed for ETA_AFTER_MS.
 */
class SaneRate {
  private readonly meter = new RateMeter();
  private since: number | undefined;

  add(bytes: number, now: number): void {
    if (bytes <= 0) return;
    this.since ??= now;
    this.meter.add(bytes, now);
  }

  rate(): number | undefined {
    return this.meter.rate();
  }

  eta(remaining: number, now: number): number | undefined {
    if (this.since === undefined || now - this.since < ETA_AFTER_MS) return undefined;
    return etaSeconds(remaining, this.meter.rate());
  }
}

/** A tar entry: a 512-byte header and the data padded to 512. */
function entrySize(size: number): number {
  return 512 + Math.ceil(size / 512) * 512;
}

/** A picked file that never received data is removed again (Chromium creates it when it is picked). */
async function removeFile(handle: FileSystemFileHandle | undefined): Promise<void> {
  const removable = handle as (FileSystemFileHandle & { remove?: () => Promise<void> }) | undefined;
  await removable?.remove?.().catch(() => {});
}

export const download = new Download();
