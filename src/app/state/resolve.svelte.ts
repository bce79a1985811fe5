/**
 * The image being typed: parsed as you type, resolved once the name is complete and typing has settled,
 * with its platforms, their sizes and the repository's tags. Also the one place that builds what every
 * registry request of the page needs (transport options) and what an error's advice needs to know.
 */
import { isSkiffError } from '../../core/errors.ts';
import { planLayerSize } from '../../core/layer-size.ts';
import { parseManifest } from '../../core/manifest.ts';
import { isForeignLayer, layerCompression } from '../../core/media-types.ts';
import { formatPlatform, parsePlatform } from '../../core/platform.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from '../../core/reference.ts';
import { RegistryClient, type TransportOptions } from '../../core/registry.ts';
import { type ResolvedImage, resolve } from '../../core/resolve.ts';
import { t } from '../i18n/index.svelte.ts';
import { type Advice, adviceFor, choosablePlatform } from '../lib/advice.ts';
import { absoluteRelay } from '../lib/config.ts';
import { imageFileStem } from '../lib/names.ts';
import { alerts } from './alerts.svelte.ts';
import { credentials } from './credentials.svelte.ts';
import { hostWaits, settings } from './settings.svelte.ts';
import { dockerHubQuota } from './quota.svelte.ts';
import { repositoryTags } from './tags.svelte.ts';

export interface PlatformOption {
  value: string;
  digest?: string;
}

export type ResolveState =
  | { status: 'idle' }
  | { status: 'resolving' }
  | { status: 'resolved'; image: ResolvedImage; key: string; input: string; platform: string }
  | { status: 'error'; advice: Advice };

/** Typing has settled when no key came for this long (people type a key every 0.3–0.8 s). */
const SETTLE_MS = 1200;

/** Every registry request of the page goes out with these. */
export function transportOptions(): TransportOptions {
  const s = settings.current;
  const relay = absoluteRelay(s.relay);
  return {
    ...(relay ? { relay } : {}),
    ...(s.dockerHubMirror ? { dockerHubMirror: s.dockerHubMirror } : {}),
    plainHttp: s.plainHttp,
    credentials: credentials.lookup,
    ...hostWaits(),
  };
}

/** Resolves `reference` with today's settings, for an explicit platform ('' = the default). */
export function resolveWith(reference: ImageReference, platform: string, signal?: AbortSignal): Promise<ResolvedImage> {
  return resolve(reference, {
    ...transportOptions(),
    ...(signal ? { signal } : {}),
    ...(platform ? { platform: parsePlatform(platform) } : {}),
  });
}

/** What the alert says about `error`, for a request about `reference` (none: a download's own failure). */
export function adviceAbout(
  error: unknown,
  reference: ImageReference | undefined,
  extra: { saving?: boolean; registry?: string; cancelLeavesFiles?: boolean; push?: 'read' | 'send' } = {},
): Advice {
  const registry = reference?.registry ?? extra.registry ?? '';
  return adviceFor(error, t(), {
    relay: absoluteRelay(settings.current.relay),
    ...(reference ? { reference } : {}),
    ...(registry ? { registry } : {}),
    at: Date.now(),
    hadCredentials: !!credentials.lookup(registry),
    ...(extra.saving !== undefined ? { saving: extra.saving } : {}),
    ...(extra.cancelLeavesFiles ? { cancelLeavesFiles: true } : {}),
    ...(extra.push ? { push: extra.push } : {}),
  });
}

/** The name as people write it: `nginx:1.27` for Hub images, the full host otherwise. */
export function displayName(reference: ImageReference): string {
  let name = familiarName(reference);
  if (reference.tag !== undefined) name += `:${reference.tag}`;
  if (reference.digest !== undefined) name += `@${reference.digest}`;
  return name;
}

class ImageResolver {
  input = $state('');
  /** The platform picked, and the image it was picked for (`formatReference`): it applies to that image only. */
  platformPick = $state.raw<{ image: string; platform: string } | undefined>(undefined);
  resolveState = $state.raw<ResolveState>({ status: 'idle' });
  /** The image whose details are on screen: kept while the next one resolves, so the page does not jump. */
  shown = $state.raw<ResolvedImage | undefined>(undefined);
  platformOptions = $state.raw<PlatformOption[]>([]);
  /** Download size of each platform of the current index, by manifest digest. */
  platformSizes = $state.raw<Record<string, number>>({});
  /** The repository's tags (listed after a resolve), for the details. */
  get tags() {
    return repositoryTags.current;
  }
  /** Each layer's size in an uncompressed archive, by digest, where the engine will know it exactly in advance. */
  layerSizes = $state.raw<Record<string, number>>({});

  /** The input parsed as docker would read it, or the engine's message saying why not. */
  parsed: { reference?: ImageReference; error?: string } = $derived.by(() => {
    if (!this.input.trim()) return {};
    try {
      return { reference: parseReference(this.input) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  });

  /** Explicit platform of the image in the field ('' = default linux/amd64 for an index, whatever a single image is). */
  platformChoice: string = $derived.by(() => {
    const pick = this.platformPick;
    const reference = this.parsed.reference;
    return pick && reference && pick.image === formatReference(reference) ? pick.platform : '';
  });

  /** Everything that shapes registry requests; a change makes resolved images stale. */
  transportKey: string = $derived(
    JSON.stringify([
      settings.current.relay,
      settings.current.dockerHubMirror,
      settings.current.plainHttp,
      Object.entries(credentials.signedIn).map(([r, c]) => [r, c.username, c.password]),
    ]),
  );

  private resolveTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveController: AbortController | undefined;
  private resolveSeq = 0;
  private pendingResolve: Promise<ResolvedImage | undefined> | undefined;
  /** The transport the resolve in flight was started with. */
  private pendingKey: string | undefined;

  /** Reads `?image=…&platform=…` of a shared link. */
  init(): void {
    const params = new URLSearchParams(globalThis.location?.search ?? '');
    const image = params.get('image');
    const platform = params.get('platform');
    if (image && platform) {
      try {
        // The link's platform belongs to the link's image only.
        this.platformPick = {
          image: formatReference(parseReference(image)),
          platform: formatPlatform(parsePlatform(platform)),
        };
      } catch {
        // a broken platform (or name) in a link is ignored; the default applies
      }
    }
    if (image) this.setInput(image, { immediate: true });
  }

  setInput(text: string, options: { immediate?: boolean } = {}): void {
    this.input = text;
    repositoryTags.suggestions = undefined;
    if (this.resolveState.status === 'error') alerts.failure = undefined;
    this.scheduleResolve(options.immediate ? 0 : SETTLE_MS);
  }

  setPlatform(value: string): void {
    const reference = this.parsed.reference;
    if (!reference) return;
    this.platformPick = { image: formatReference(reference), platform: value };
    this.scheduleResolve(0);
  }

  /** Resolves after a pause in typing; called again whenever the name or the transport changes. */
  scheduleResolve(delay = SETTLE_MS): void {
    clearTimeout(this.resolveTimer);
    this.resolveController?.abort();
    this.pendingResolve = undefined;
    this.updateAddressBar();
    if (!this.parsed.reference) {
      this.toIdle();
      return;
    }
    // A name still being typed (a registry host without a repository yet) waits for more, however long the pause.
    if (delay > 0 && !looksComplete(this.input)) {
      this.resolveSeq++;
      this.resolveState = { status: 'idle' };
      return;
    }
    this.resolveState = { status: 'resolving' };
    this.resolveTimer = setTimeout(() => void this.resolveNow(delay > 0), delay);
  }

  /** Nothing resolved or resolving: the state after an empty or unparseable field, or after the name was queued. */
  toIdle(): void {
    clearTimeout(this.resolveTimer);
    this.resolveController?.abort();
    this.pendingResolve = undefined;
    this.resolveSeq++;
    this.resolveState = { status: 'idle' };
    this.platformOptions = [];
    this.shown = undefined;
  }

  /** Empties the field for the next name. */
  clear(): void {
    this.input = '';
    this.toIdle();
    this.updateAddressBar();
  }

  /** The resolve of exactly this input and platform with the current settings, if it is done. */
  resolvedFor(input: string, platform: string): ResolvedImage | undefined {
    const state = this.resolveState;
    return state.status === 'resolved' &&
      state.key === this.transportKey &&
      state.input === input &&
      state.platform === platform
      ? state.image
      : undefined;
  }

  /**
   * Settings or credentials changed: look the name up again, unless what is shown or in flight already
   * uses them (Download signs in and resolves at once; a second resolve would cancel that one).
   */
  transportChanged(): void {
    if (!this.parsed.reference) return;
    const state = this.resolveState;
    const key = this.transportKey;
    if (state.status === 'resolved' && state.key === key) return;
    if (this.pendingResolve && this.pendingKey === key) return;
    this.scheduleResolve(0);
  }

  /**
   * The current image resolved with the current settings (reusing a resolve in flight or done). A resolve
   * replaced by a newer one (settings changed meanwhile) hands over to that one; undefined only when the
   * name failed (the alert says why) or the field no longer holds a name.
   */
  async ensureResolved(): Promise<ResolvedImage | undefined> {
    for (let handovers = 0; handovers < 5; handovers++) {
      const state = this.resolveState;
      if (state.status === 'resolved' && state.key === this.transportKey) return state.image;
      if (!this.pendingResolve) clearTimeout(this.resolveTimer);
      const image = await (this.pendingResolve ?? this.resolveNow(false));
      if (image) return image;
      if (this.resolveState.status !== 'resolving') return undefined;
    }
    return undefined;
  }

  /** `typed`: started by a pause in typing rather than an action, so a name that does not exist costs only a HEAD. */
  private resolveNow(typed: boolean): Promise<ResolvedImage | undefined> {
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
    this.pendingKey = key;
    const run = async (): Promise<ResolvedImage | undefined> => {
      try {
        if (typed && reference.registry === 'docker.io') await checkExists(reference, controller.signal);
        const image = await resolveWith(reference, platform, controller.signal);
        if (seq !== this.resolveSeq) return undefined;
        this.resolveState = { status: 'resolved', image, key, input, platform };
        dockerHubQuota.note(image.reference.registry, image.client.rateLimit);
        this.shown = image;
        alerts.failure = undefined;
        this.platformOptions = image.index
          ? dedupe(image.index.platforms.map((p) => ({ value: formatPlatform(p.platform), digest: p.digest }))).filter(
              (o) => choosablePlatform(o.value),
            )
          : [];
        // Each platform's size costs a manifest request; on Docker Hub each one counts against the pull
        // quota, so there only when the person opens the platform list.
        this.sizesFor = image.index ? { image, signal: controller.signal } : undefined;
        if (image.index && image.reference.registry !== 'docker.io') this.loadPlatformSizes();
        void repositoryTags.load(image.reference, image.client, key);
        void this.loadLayerSizes(image, controller.signal);
        return image;
      } catch (error) {
        if (seq !== this.resolveSeq || isSkiffError(error, 'aborted')) return undefined;
        credentials.noteFailure(reference.registry, error);
        const advice = adviceAbout(error, reference);
        this.resolveState = { status: 'error', advice };
        // A tag that does not exist: the repository's tags nearest to it, listed now (never per keystroke).
        void repositoryTags.suggest(
          error,
          reference,
          input,
          new RegistryClient(reference.registry, transportOptions()),
          key,
        );
        this.shown = undefined;
        alerts.failure = advice;
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

  private sizesFor: { image: ResolvedImage; signal: AbortSignal } | undefined;

  /** The download size of every platform of the index on screen: each child manifest, its layers summed (once). */
  async loadPlatformSizes(): Promise<void> {
    const target = this.sizesFor;
    if (!target) return;
    this.sizesFor = undefined;
    const { image, signal } = target;
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

  /** What the engine will plan for each layer of an uncompressed archive: a gzip layer's size from its trailer. */
  private async loadLayerSizes(image: ResolvedImage, signal: AbortSignal): Promise<void> {
    const sizes: Record<string, number> = {};
    await Promise.all(
      image.layers.map(async ({ descriptor }) => {
        const compression = layerCompression(descriptor.mediaType);
        if (!compression || compression === 'zstd') return;
        let tail: Uint8Array | undefined;
        if (compression === 'gzip' && !isForeignLayer(descriptor.mediaType))
          tail = await image.client
            .blobTail(image.reference.repository, descriptor.digest, descriptor.size, 8, signal)
            .catch(() => undefined);
        const plan = planLayerSize(descriptor, compression, tail);
        // Kept compressed, the layer goes in as served.
        sizes[descriptor.digest] = plan.kind === 'exact' ? plan.size : descriptor.size;
      }),
    );
    if (!signal.aborted) this.layerSizes = { ...this.layerSizes, ...sizes };
  }

  useTag(tag: string): void {
    const reference =
      this.parsed.reference ??
      (this.resolveState.status === 'resolved' ? this.resolveState.image.reference : undefined);
    if (!reference) return;
    const { digest: _digest, ...rest } = reference;
    this.setInput(displayName({ ...rest, tag }), { immediate: true });
  }

  /** The file name stem of the image in the field, as far as it is known. */
  currentStem(): string[] {
    const state = this.resolveState;
    if (state.status === 'resolved')
      return [imageFileStem(state.image.reference, state.image.platform, this.platformChoice !== '')];
    const reference = this.parsed.reference;
    if (!reference) return [];
    const platform = this.platformChoice ? parsePlatform(this.platformChoice) : { os: 'linux', architecture: 'amd64' };
    return [imageFileStem(reference, platform, this.platformChoice !== '')];
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
}

/**
 * Whether the field holds a name a person may have finished: not a registry host still waiting for its
 * repository (`127.0.0.1`, `127.0.0.1:5000`, `ghcr.io`), which docker would read as a Docker Hub name.
 */
export function looksComplete(input: string): boolean {
  const text = input.trim();
  if (!text || /[/:.@_-]$/.test(text)) return false;
  if (text.includes('/')) return true;
  const name = text.split(/[:@]/)[0]!;
  return !name.includes('.') && name !== 'localhost' && !/^\d+$/.test(name);
}

/** A HEAD of the manifest: on Docker Hub, which counts manifest GETs against the pull quota, a name that
 *  does not exist (a typo, a name typed on after a pause) costs no pull. */
async function checkExists(reference: ImageReference, signal: AbortSignal): Promise<void> {
  const client = new RegistryClient(reference.registry, transportOptions());
  await client.headManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest', signal);
}

function dedupe(options: PlatformOption[]): PlatformOption[] {
  const seen = new Set<string>();
  return options.filter((o) => !seen.has(o.value) && seen.add(o.value));
}

export const resolver = new ImageResolver();

/** The relay the page's requests go through, if any (as the credentials panel names it). */
export function relayShown(): string | undefined {
  return absoluteRelay(settings.current.relay);
}
