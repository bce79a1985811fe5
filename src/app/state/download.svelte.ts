/**
 * The download: which images go into the file (the queue, or the image in the field), the file itself,
 * the engine's progress as table rows with speeds and times left, and the result.
 */
import { SkiffError } from '../../core/errors.ts';
import { formatReference } from '../../core/image/reference.ts';
import type { LayerMode, TransferredImage } from '../../core/pull.ts';
import { type DownloadJob, writeArchive } from '../engine/engine.ts';
import { pageSha256 } from '../engine/hashing.ts';
import { asPulledArchiveSize } from '../../core/archive/size.ts';
import {
  type SaveMethod,
  type SaveTarget,
  cancelLeavesFiles,
  downloadMethod,
  openTarget,
  pickFile,
} from '../engine/save.ts';
import { outputStream } from '../engine/sink.ts';
import type { KitTar } from '../../core/pull.ts';
import { type LayerRow, ProgressTracker } from '../lib/progress-view.ts';
import { archiveName, uniqueNames } from '../lib/names.ts';
import { type ArchiveKind, type EstimateInput, jobImage, stemOf } from './estimate.ts';
import { readRecent, rememberRecent } from '../lib/recent.ts';
import { alerts } from './alerts.svelte.ts';
import { type QueueItem, queue } from './queue.svelte.ts';
import { credentials } from './credentials.svelte.ts';
import { downloadItems, fieldItem, progressNames } from './download-items.ts';
import { setOf } from './list-rows.ts';
import { adviceAbout, resolver, transportOptions } from './resolve.svelte.ts';
import { dockerHubQuota } from './quota.svelte.ts';
import { hostWaits, settings } from './settings.svelte.ts';

export type { ArchiveKind, EstimateInput } from './estimate.ts';

export type { LayerRow } from '../lib/progress-view.ts';

export interface DownloadImage {
  name: string;
  platform: string;
}

export interface Running {
  kind: ArchiveKind;
  method: SaveMethod;
  /** Uncompressed: layers are unpacked, so more is written than downloaded. */
  layers: LayerMode;
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
  images: TransferredImage[];
  notes: string[];
  tars?: KitTar[];
  /** The list's items that went into the file, so the list can say it was saved until it changes. */
  queued: number[];
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

  /** The image in the field goes into the download too, unless it is listed already: it is never left out unsaid. */
  typedExtra = $derived.by(() => {
    const reference = resolver.parsed.reference;
    if (!reference) return false;
    const key = formatReference(reference);
    return !queue.items.some((q) => q.reference && formatReference(q.reference) === key);
  });

  /** The file the list's images were just saved in, while the list and the file type are unchanged since. */
  savedList: string | undefined = $derived.by(() => {
    const done = this.done;
    if (!done || done.kind !== this.kind || !queue.items.length) return undefined;
    const same = queue.items.length === done.queued.length && queue.items.every((q) => done.queued.includes(q.id));
    return same ? done.fileName : undefined;
  });

  /** How many images Download takes. */
  count: number = $derived(queue.items.length + (this.typedExtra ? 1 : 0));

  /**
   * What the file's size depends on: the images (queue and field), the file type, the layer mode and the
   * inflated layer sizes learned so far. undefined while the typed image is not looked up yet.
   */
  estimateInput: EstimateInput | undefined = $derived.by(() => {
    if (queue.items.some((q) => !q.resolved)) return undefined;
    const selection = resolver.platformSelection;
    // Several or all platforms of the typed image are counted once they are looked up, at Download.
    const one = selection !== 'all' && selection.length <= 1;
    const typed = this.typedExtra && one ? resolver.resolvedFor(resolver.input, resolver.platformChoice) : undefined;
    if (this.typedExtra && !typed) return undefined;
    const field = typed && fieldItem(setOf(typed, selection));
    const items = [...queue.items, ...(field ? [field] : [])];
    if (!items.length) return undefined;
    return { kind: this.kind, items, layers: settings.current.layers, inflatedSizes: resolver.layerSizes };
  });

  suggestedName(kind: ArchiveKind): string {
    const stems = [...queue.items.map(stemOf), ...(this.typedExtra ? resolver.currentStem() : [])];
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
    // With a list, the name in the field joins it first (or its platforms join its row), so its row shows
    // how it resolves.
    if (queue.items.length && resolver.parsed.reference) queue.addCurrent({ quiet: true });
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
      layers: settings.current.layers,
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
      const items = await downloadItems(this.typedExtra, signal);
      if (!items) {
        this.running = undefined;
        await removeFile(handle);
        return;
      }
      const fileName = handle?.name ?? suggested;
      const sets = items.map((q) => q.resolved!);
      const images = sets.flatMap((set) => set.images);
      const sha256 = await pageSha256();
      // The zip kit always carries its own checksum; a tar only when the setting asks for one.
      const hash = kind === 'zip' || settings.current.hashFile ? await sha256() : undefined;
      const progress = new ProgressTracker(
        kind,
        sets.map((set) => set.images),
        settings.current.layers,
      );
      let written = 0;
      const publish = () => {
        if (!this.running) return;
        this.running = { ...this.running, ...progress.view(), written, opening: false };
      };
      this.running = {
        ...this.running!,
        fileName,
        images: progressNames(kind, items),
        ...progress.view(),
      };
      // An as-pulled tar's size is known before the first byte: the browser is told, so a short file fails.
      const size =
        kind === 'tar' && settings.current.layers === 'as-pulled' && sets.every((set) => !set.index)
          ? await asPulledArchiveSize(images)
          : undefined;
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
          if (images.some((image) => image.reference.registry === 'docker.io'))
            dockerHubQuota.note('docker.io', p.rateLimit);
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
        queued: items.map((q) => q.id),
      };
      this.recent = rememberRecent(items.map((q) => q.name));
    } catch (error) {
      this.running = undefined;
      const registry = queue.items[0]?.reference?.registry ?? resolver.parsed.reference?.registry ?? '';
      credentials.noteFailure(registry, error);
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
      images: items.map((q) => jobImage(q.resolved!)),
      layers: settings.current.layers,
      ...(stall ? { idleTimeoutMs: stall * 1000 } : {}),
      ...hostWaits(),
      parallel: settings.current.parallel,
    };
    if (kind === 'tar') return { kind, ...common };
    return { kind, tarNames: uniqueNames(items.map(stemOf), '.tar'), ...common };
  }
}

/** A picked file that never received data is removed again (Chromium creates it when it is picked). */
async function removeFile(handle: FileSystemFileHandle | undefined): Promise<void> {
  const removable = handle as (FileSystemFileHandle & { remove?: () => Promise<void> }) | undefined;
  await removable?.remove?.().catch(() => {});
}

export const download = new Download();
