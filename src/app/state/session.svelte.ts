/**
 * What the page is doing: the image being typed (parsed as you type, resolved once complete), the archive
 * queue, and the download (progress, result, errors). Components only read this and call its methods.
 */
import { SkiffError, isSkiffError } from '../../core/errors.ts';
import { parseManifest } from '../../core/manifest.ts';
import { formatPlatform, parsePlatform } from '../../core/platform.ts';
import type { LayerProgress, LayerState, PulledImage, PullProgress } from '../../core/pull.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from '../../core/reference.ts';
import type { TransportOptions } from '../../core/registry.ts';
import { type ResolvedImage, resolve } from '../../core/resolve.ts';
import { t } from '../i18n/index.svelte.ts';
import { type Advice, adviceFor, choosablePlatform } from '../lib/advice.ts';
import { pageSha256 } from '../engine/hashing.ts';
import { absoluteRelay } from '../lib/config.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import { archiveName, imageFileStem, uniqueNames } from '../lib/names.ts';
import { rememberRecent, readRecent } from '../lib/recent.ts';
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
import { writeArchive } from '../engine/engine.ts';
import { credentials } from './credentials.svelte.ts';
import { settings } from './settings.svelte.ts';

export type ArchiveKind = 'tar' | 'zip';

export interface PlatformOption {
  value: string;
  digest?: string;
}

export interface QueueItem {
  id: number;
  /** What the user typed, normalised (`docker.io/library/nginx:1.27`). */
  name: string;
  /** The platform the user chose explicitly ('' = the default). */
  platform: string;
  resolved: ResolvedImage;
  /** Transport settings it was resolved with: re-resolved at download time when they changed. */
  transportKey: string;
}

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

type ResolveState =
  | { status: 'idle' }
  | { status: 'resolving' }
  | { status: 'resolved'; image: ResolvedImage; key: string; input: string; platform: string }
  | { status: 'error'; advice: Advice };

type TagsState = { key: string; status: 'loading' | 'ok' | 'unavailable'; tags: string[] };

const RESOLVE_DELAY_MS = 500;

class Session {
  input = $state('');
  /** Explicit platform ('' = default linux/amd64 for an index, whatever a single image is). */
  platformChoice = $state('');
  kind = $state<ArchiveKind>('tar');
  resolveState = $state.raw<ResolveState>({ status: 'idle' });
  /** The image whose details are on screen: kept while the next one resolves, so the page does not jump. */
  shown = $state.raw<ResolvedImage | undefined>(undefined);
  platformOptions = $state.raw<PlatformOption[]>([]);
  /** Download size of each platform of the current index, by manifest digest. */
  platformSizes = $state.raw<Record<string, number>>({});
  tags = $state.raw<TagsState | undefined>(undefined);
  queue = $state.raw<QueueItem[]>([]);
  recent = $state.raw<string[]>([]);
  running = $state.raw<Running | undefined>(undefined);
  done = $state.raw<Done | undefined>(undefined);
  /** The last failure (resolve or download), shown in the alert. */
  failure = $state.raw<Advice | undefined>(undefined);
  notice = $state<string | undefined>(undefined);

  /** The input parsed as docker would read it, or the engine's message saying why not. */
  parsed: { reference?: ImageReference; error?: string } = $derived.by(() => {
    if (!this.input.trim()) return {};
    try {
      return { reference: parseReference(this.input) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  });

  /** Everything that shapes registry requests; a change makes resolved images stale. */
  transportKey: string = $derived(
    JSON.stringify([
      settings.current.relay,
      settings.current.dockerHubMirror,
      settings.current.plainHttp,
      Object.entries(credentials.byRegistry).map(([r, c]) => [r, c.username, c.password]),
    ]),
  );

  private resolveTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveController: AbortController | undefined;
  private resolveSeq = 0;
  private pendingResolve: Promise<ResolvedImage | undefined> | undefined;
  private downloadController: AbortController | undefined;
  private nextId = 1;

  init(): void {
    this.recent = readRecent();
    const params = new URLSearchParams(globalThis.location?.search ?? '');
    const image = params.get('image');
    const platform = params.get('platform');
    if (platform) {
      try {
        this.platformChoice = formatPlatform(parsePlatform(platform));
      } catch {
        // a broken platform in a link is ignored; the default applies
      }
    }
    if (image) this.setInput(image, { immediate: true });
  }

  transport(): TransportOptions {
    const s = settings.current;
    const relay = absoluteRelay(s.relay);
    return {
      ...(relay ? { relay } : {}),
      ...(s.dockerHubMirror ? { dockerHubMirror: s.dockerHubMirror } : {}),
      plainHttp: s.plainHttp,
      credentials: credentials.lookup,
    };
  }

  relayShown(): string | undefined {
    return absoluteRelay(settings.current.relay);
  }

  // ------------------------------------------------------------------ typing and resolving

  setInput(text: string, options: { immediate?: boolean } = {}): void {
    this.input = text;
    this.done = undefined;
    if (this.resolveState.status === 'error') this.failure = undefined;
    this.scheduleResolve(options.immediate ? 0 : RESOLVE_DELAY_MS);
  }

  setPlatform(value: string): void {
    this.platformChoice = value;
    this.scheduleResolve(0);
  }

  /** Resolves after a pause in typing; called again whenever the name or the transport changes. */
  scheduleResolve(delay = RESOLVE_DELAY_MS): void {
    clearTimeout(this.resolveTimer);
    this.resolveController?.abort();
    this.pendingResolve = undefined;
    this.updateAddressBar();
    if (!this.parsed.reference) {
      this.resolveSeq++;
      this.resolveState = { status: 'idle' };
      this.platformOptions = [];
      this.shown = undefined;
      return;
    }
    this.resolveState = { status: 'resolving' };
    this.resolveTimer = setTimeout(() => void this.resolveNow(), delay);
  }

  /** The current image resolved with the current settings (reusing a resolve in flight or done). */
  ensureResolved(): Promise<ResolvedImage | undefined> {
    const state = this.resolveState;
    if (state.status === 'resolved' && state.key === this.transportKey) return Promise.resolve(state.image);
    if (this.pendingResolve) return this.pendingResolve;
    clearTimeout(this.resolveTimer);
    return this.resolveNow();
  }

  private resolveNow(): Promise<ResolvedImage | undefined> {
    const reference = this.parsed.reference;
    if (!reference) return Promise.resolve(undefined);
    const seq = ++this.resolveSeq;
    this.resolveController?.abort();
    const controller = new AbortController();
    this.resolveController = controller;
    const key = this.transportKey;
    const platform = this.platformChoice;
    const input = this.input;
    this.resolveState = { status: 'resolving' };
    const run = async (): Promise<ResolvedImage | undefined> => {
      try {
        const image = await resolve(reference, {
          ...this.transport(),
          signal: controller.signal,
          ...(platform ? { platform: parsePlatform(platform) } : {}),
        });
        if (seq !== this.resolveSeq) return undefined;
        this.resolveState = { status: 'resolved', image, key, input, platform };
        this.shown = image;
        this.failure = undefined;
        this.platformOptions = image.index
          ? dedupe(image.index.platforms.map((p) => ({ value: formatPlatform(p.platform), digest: p.digest }))).filter(
              (o) => choosablePlatform(o.value),
            )
          : [];
        if (image.index) void this.loadPlatformSizes(image, controller.signal);
        void this.loadTags(image);
        return image;
      } catch (error) {
        if (seq !== this.resolveSeq || isSkiffError(error, 'aborted')) return undefined;
        const advice = adviceFor(error, t(), {
          relay: this.relayShown(),
          reference,
          hadCredentials: !!credentials.lookup(reference.registry),
        });
        this.resolveState = { status: 'error', advice };
        this.shown = undefined;
        this.failure = advice;
        // A missing platform: offer the ones that exist.
        this.platformOptions = advice.platforms?.length ? advice.platforms.map((value) => ({ value })) : [];
        return undefined;
      } finally {
        if (seq === this.resolveSeq) this.pendingResolve = undefined;
      }
    };
    this.pendingResolve = run();
    return this.pendingResolve;
  }

  /** The download size of every platform of an index: each child manifest, its layers summed. */
  private async loadPlatformSizes(image: ResolvedImage, signal: AbortSignal): Promise<void> {
    const entries = image.index?.platforms ?? [];
    const sizes: Record<string, number> = { [image.manifest.digest]: image.compressedSize };
    this.platformSizes = { ...sizes };
    const pending = entries.filter((e) => sizes[e.digest] === undefined);
    const worker = async () => {
      for (let entry = pending.shift(); entry; entry = pending.shift()) {
        try {
          const fetched = await image.client.getManifest(image.reference.repository, entry.digest, signal);
          const parsed = parseManifest(fetched.bytes, fetched.contentType);
          if (parsed.kind === 'image') sizes[entry.digest] = parsed.layers.reduce((sum, l) => sum + l.size, 0);
        } catch {
          // a size is a nicety: the option just shows none
        }
        if (signal.aborted) return;
        this.platformSizes = { ...sizes };
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  private async loadTags(image: ResolvedImage): Promise<void> {
    const key = `${image.reference.registry}/${image.reference.repository} ${this.transportKey}`;
    if (this.tags?.key === key && this.tags.status !== 'unavailable') return;
    this.tags = { key, status: 'loading', tags: [] };
    try {
      const tags = await image.client.listTags(image.reference.repository);
      if (this.tags?.key === key) this.tags = { key, status: 'ok', tags: sortTags(tags) };
    } catch {
      if (this.tags?.key === key) this.tags = { key, status: 'unavailable', tags: [] };
    }
  }

  useTag(tag: string): void {
    const reference =
      this.parsed.reference ??
      (this.resolveState.status === 'resolved' ? this.resolveState.image.reference : undefined);
    if (!reference) return;
    const { digest: _digest, ...rest } = reference;
    this.setInput(displayName({ ...rest, tag }), { immediate: true });
  }

  /** `?image=…&platform=…` always describes the form, so the address bar is a link to share (never credentials). */
  private updateAddressBar(): void {
    if (typeof history === 'undefined') return;
    const url = new URL(location.href);
    url.search = '';
    if (this.input.trim()) url.searchParams.set('image', this.input.trim());
    if (this.platformChoice) url.searchParams.set('platform', this.platformChoice);
    if (url.href !== location.href) history.replaceState(null, '', url.href);
  }

  shareLink(): string {
    this.updateAddressBar();
    return location.href;
  }

  // ------------------------------------------------------------------ the archive queue

  /**
   * Adds the image as it is named now. Typing on right away must not lose it, so it resolves on its own
   * when the page's resolve is not (or no longer) about this name.
   */
  async addToQueue(): Promise<void> {
    const reference = this.parsed.reference;
    if (!reference) return;
    const input = this.input;
    const platform = this.platformChoice;
    const key = this.transportKey;
    let image: ResolvedImage;
    const state = this.resolveState;
    if (state.status === 'resolved' && state.key === key && state.input === input && state.platform === platform) {
      image = state.image;
    } else {
      try {
        image = await resolve(reference, {
          ...this.transport(),
          ...(platform ? { platform: parsePlatform(platform) } : {}),
        });
      } catch (error) {
        this.failure = adviceFor(error, t(), {
          relay: this.relayShown(),
          reference,
          hadCredentials: !!credentials.lookup(reference.registry),
        });
        return;
      }
    }
    if (
      this.queue.some(
        (q) =>
          q.resolved.manifest.digest === image.manifest.digest &&
          formatReference(q.resolved.reference) === formatReference(image.reference),
      )
    ) {
      this.notice = t().alreadyQueued;
      return;
    }
    this.notice = undefined;
    this.queue = [
      ...this.queue,
      { id: this.nextId++, name: displayName(image.reference), platform, resolved: image, transportKey: key },
    ];
    // Ready for the next name, unless the user already started typing it.
    if (this.input !== input) return;
    this.input = '';
    this.resolveSeq++;
    this.resolveState = { status: 'idle' };
    this.platformOptions = [];
    this.shown = undefined;
    this.updateAddressBar();
  }

  removeFromQueue(id: number): void {
    this.queue = this.queue.filter((q) => q.id !== id);
  }

  clearQueue(): void {
    this.queue = [];
  }

  // ------------------------------------------------------------------ downloading

  suggestedName(kind: ArchiveKind): string {
    const stems = this.queue.length
      ? this.queue.map((q) => imageFileStem(q.resolved.reference, q.resolved.platform, q.platform !== ''))
      : this.currentStem();
    return archiveName(stems, settings.current.outputName, kind);
  }

  private currentStem(): string[] {
    const state = this.resolveState;
    if (state.status === 'resolved')
      return [imageFileStem(state.image.reference, state.image.platform, this.platformChoice !== '')];
    const reference = this.parsed.reference;
    if (!reference) return [];
    const platform = this.platformChoice ? parsePlatform(this.platformChoice) : { os: 'linux', architecture: 'amd64' };
    return [imageFileStem(reference, platform, this.platformChoice !== '')];
  }

  canDownload(): boolean {
    return !this.running && (this.queue.length > 0 || this.parsed.reference !== undefined);
  }

  /**
   * Starts a download. With `pick`, the save dialog opens first — synchronously inside the click, as the
   * File System Access API requires a user gesture.
   */
  download(pick = false): Promise<void> {
    if (!this.canDownload()) return Promise.resolve();
    const kind = this.kind;
    const fileName = this.suggestedName(kind);
    const handlePromise = pick ? pickFile(fileName, kind) : undefined;
    return this.runDownload(kind, fileName, handlePromise);
  }

  cancel(): void {
    this.downloadController?.abort(new SkiffError('aborted', 'The pull was cancelled.'));
  }

  private async runDownload(
    kind: ArchiveKind,
    suggested: string,
    handlePromise: Promise<FileSystemFileHandle> | undefined,
  ): Promise<void> {
    const controller = new AbortController();
    this.downloadController = controller;
    const signal = controller.signal;
    const method: SaveMethod = handlePromise ? 'fsaccess' : downloadMethod(settings.current.saveMethod);
    this.done = undefined;
    this.failure = undefined;
    this.notice = undefined;
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
      const items = await this.downloadItems(signal);
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
      const progress = new ProgressTracker(kind, images);
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
      const archiveOptions = {
        signal,
        transport: { ...this.transport(), plainHttp: settings.current.plainHttp, credentials: credentials.lookup },
        onProgress: (i: number, p: PullProgress) => {
          progress.update(i, p);
          publish();
        },
      };
      const stall = settings.host.stallTimeoutSeconds;
      const idle = { ...(stall ? { idleTimeoutMs: stall * 1000 } : {}), parallel: settings.current.parallel };
      let done: Done;
      if (kind === 'zip') {
        const stems = items.map((q) => imageFileStem(q.resolved.reference, q.resolved.platform, q.platform !== ''));
        const tarNames = uniqueNames(stems, '.tar');
        const kit = await writeArchive(
          { kind: 'zip', images, tarNames, layers: settings.current.layers, ...idle },
          sink,
          archiveOptions,
        );
        done = {
          kind,
          method,
          fileName,
          size: written,
          sha256: await hash?.digest(),
          tars: kit.tars,
          images: kit.results.flatMap((r) => r.images),
          notes: kit.results.flatMap((r) => r.notes),
        };
      } else {
        const result = await writeArchive(
          { kind: 'tar', images, layers: settings.current.layers, ...idle },
          sink,
          archiveOptions,
        );
        done = {
          kind,
          method,
          fileName,
          size: written,
          sha256: await hash?.digest(),
          images: result.images,
          notes: result.notes,
        };
      }
      this.running = undefined;
      this.done = done;
      this.recent = rememberRecent(items.map((q) => q.name));
    } catch (error) {
      this.running = undefined;
      const registry = this.queue[0]?.resolved.reference.registry ?? this.parsed.reference?.registry ?? '';
      const advice = adviceFor(signal.aborted ? signal.reason : error, t(), {
        relay: this.relayShown(),
        saving,
        hadCredentials: !!credentials.lookup(registry),
        cancelLeavesFiles: cancelLeavesFiles(method),
      });
      this.failure = advice;
      // The picker created the file; a download that did not finish must not leave it behind.
      await removeFile(handle);
    } finally {
      target?.dispose();
      if (this.downloadController === controller) this.downloadController = undefined;
    }
  }

  /** The images to pull: the queue, or the current image; stale ones resolved again with today's settings. */
  private async downloadItems(signal: AbortSignal): Promise<QueueItem[] | undefined> {
    if (this.queue.length === 0) {
      const image = await this.ensureResolved();
      if (!image || signal.aborted) return undefined;
      return [
        {
          id: 0,
          name: displayName(image.reference),
          platform: this.platformChoice,
          resolved: image,
          transportKey: this.transportKey,
        },
      ];
    }
    const key = this.transportKey;
    const items: QueueItem[] = [];
    for (const item of this.queue) {
      if (item.transportKey === key) {
        items.push(item);
        continue;
      }
      const resolved = await resolve(item.resolved.reference, {
        ...this.transport(),
        signal,
        ...(item.platform ? { platform: parsePlatform(item.platform) } : {}),
      });
      items.push({ ...item, resolved, transportKey: key });
    }
    this.queue = items;
    return items;
  }
}

/** Turns the engine's progress events into table rows with speeds and ETAs, for one archive or a kit. */
class ProgressTracker {
  private readonly snapshots: PullProgress[];
  private readonly meters = new Map<string, RateMeter>();
  private readonly total = new RateMeter();

  constructor(
    private readonly kind: ArchiveKind,
    images: ResolvedImage[],
  ) {
    // Before the engine reports, rows come from the plan: one tar holds every image (shared layers once);
    // a kit holds one tar per image.
    const plan = (list: ResolvedImage[]): PullProgress => {
      const seen = new Set<string>();
      const layers = list.flatMap((image, i) =>
        image.layers.map(({ descriptor }) => {
          const shared = seen.has(descriptor.digest);
          seen.add(descriptor.digest);
          return {
            image: i,
            digest: descriptor.digest,
            mediaType: descriptor.mediaType,
            size: descriptor.size,
            received: 0,
            state: (shared ? 'shared' : 'waiting') as LayerState,
          };
        }),
      );
      const expected = layers.filter((l) => l.state !== 'shared').reduce((s, l) => s + l.size, 0);
      return { layers, received: 0, expected, written: 0 };
    };
    this.snapshots = kind === 'zip' ? images.map((image) => plan([image])) : [plan(images)];
  }

  update(index: number, progress: PullProgress): void {
    this.snapshots[index] = progress;
  }

  view(): Pick<Running, 'rows' | 'received' | 'expected' | 'speed' | 'eta'> {
    const now = performance.now();
    const rows: LayerRow[] = [];
    this.snapshots.forEach((snapshot, item) => {
      snapshot.layers.forEach((layer, i) => {
        const key = `${item}/${i}`;
        let speed: number | undefined;
        if (layer.state === 'downloading') {
          let meter = this.meters.get(key);
          if (!meter) this.meters.set(key, (meter = new RateMeter()));
          meter.add(layer.received, now);
          speed = meter.rate();
        }
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
          ...(speed !== undefined ? { speed, eta: etaSeconds(layer.size - layer.received, speed) } : {}),
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
      eta: etaSeconds(Math.max(0, expected - received), speed),
    };
  }
}

/** The name as people write it: `nginx:1.27` for Hub images, the full host otherwise. */
export function displayName(reference: ImageReference): string {
  let name = familiarName(reference);
  if (reference.tag !== undefined) name += `:${reference.tag}`;
  if (reference.digest !== undefined) name += `@${reference.digest}`;
  return name;
}

function dedupe(options: PlatformOption[]): PlatformOption[] {
  const seen = new Set<string>();
  return options.filter((o) => !seen.has(o.value) && seen.add(o.value));
}

/** Newest-looking first: version-like tags in descending order, then the rest alphabetically. */
function sortTags(tags: string[]): string[] {
  return [...tags].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
}

/** A picked file that never received data is removed again (Chromium creates it when it is picked). */
async function removeFile(handle: FileSystemFileHandle | undefined): Promise<void> {
  const removable = handle as (FileSystemFileHandle & { remove?: () => Promise<void> }) | undefined;
  await removable?.remove?.().catch(() => {});
}

export const session = new Session();
