/**
 * The image being typed, looked up: resolved once the name is complete and typing has settled (a newer
 * look-up cancels the one in flight), with its platforms, their sizes and the repository's tags.
 */
import { isSkiffError } from '../../core/errors.ts';
import { parsePlatform } from '../../core/image/platform.ts';
import { type ImageReference, formatReference } from '../../core/image/reference.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import type { Advice } from '../lib/advice.ts';
import { imageFileStem } from '../lib/names.ts';
import { alerts } from './alerts.svelte.ts';
import { credentials } from './credentials.svelte.ts';
import { type PlatformOption, fetchLayerSizes, fetchPlatformSizes, platformOptionsOf } from './image-details.ts';
import { ImageInput, displayName, looksComplete } from './image-input.svelte.ts';
import { dockerHubQuota } from './quota.svelte.ts';
import { repositoryTags } from './tags.svelte.ts';
import { adviceAbout, currentTransportKey, registryClients, resolveWith } from './transport.ts';

// download.svelte.ts imports these from here.
export { displayName } from './image-input.svelte.ts';
export { adviceAbout, transportOptions } from './transport.ts';

export type ResolveState =
  | { status: 'idle' }
  | { status: 'resolving' }
  | { status: 'resolved'; image: ResolvedImage; key: string; input: string; platform: string }
  | { status: 'error'; advice: Advice };

/** Typing has settled when no key came for this long (people type a key every 0.3–0.8 s). */
const SETTLE_MS = 1200;

class ImageResolver extends ImageInput {
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

  /** Everything that shapes registry requests; a change makes resolved images stale. */
  transportKey: string = $derived(currentTransportKey());

  private resolveTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveController: AbortController | undefined;
  private resolveSeq = 0;
  private pendingResolve: Promise<ResolvedImage | undefined> | undefined;
  /** The transport the resolve in flight was started with. */
  private pendingKey: string | undefined;

  /** Reads `?image=…&platform=…` of a shared link. */
  init(): void {
    const image = this.readLink();
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
    const before = this.platformChoice;
    this.platformPick = { image: formatReference(reference), platform: value };
    // Ticking a second platform changes the file, not the image shown: no new look-up.
    if (this.platformChoice !== before || this.resolveState.status !== 'resolved') this.scheduleResolve(0);
    else this.updateAddressBar();
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
        dockerHubQuota.note(image.reference.registry, registryClients().for(image.reference.registry).rateLimit);
        this.shown = image;
        alerts.failure = undefined;
        this.platformOptions = platformOptionsOf(image);
        // Each platform's size costs a manifest request; on Docker Hub each one counts against the pull
        // quota, so there only when the person opens the platform list.
        this.sizesFor = image.index ? { image, signal: controller.signal } : undefined;
        if (image.index && image.reference.registry !== 'docker.io') this.loadPlatformSizes();
        void repositoryTags.load(image.reference, registryClients().for(image.reference.registry), key);
        void this.loadLayerSizes(image, controller.signal);
        return image;
      } catch (error) {
        if (seq !== this.resolveSeq || isSkiffError(error, 'aborted')) return undefined;
        credentials.noteFailure(reference.registry, error);
        const advice = adviceAbout(error, reference);
        this.resolveState = { status: 'error', advice };
        // A tag that does not exist: the repository's tags nearest to it, listed now (never per keystroke).
        void repositoryTags.suggest(error, reference, input, registryClients().for(reference.registry), key);
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

  /** The download size of every platform of the index on screen (looked up once). */
  async loadPlatformSizes(): Promise<void> {
    const target = this.sizesFor;
    if (!target) return;
    this.sizesFor = undefined;
    await fetchPlatformSizes(target.image, target.signal, (sizes) => (this.platformSizes = sizes));
  }

  private async loadLayerSizes(image: ResolvedImage, signal: AbortSignal): Promise<void> {
    const sizes = await fetchLayerSizes(image, signal);
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
}

/** A HEAD of the manifest: on Docker Hub, which counts manifest GETs against the pull quota, a name that
 *  does not exist (a typo, a name typed on after a pause) costs no pull. */
async function checkExists(reference: ImageReference, signal: AbortSignal): Promise<void> {
  const client = registryClients().for(reference.registry);
  await client.headManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest', signal);
}

export const resolver = new ImageResolver();
