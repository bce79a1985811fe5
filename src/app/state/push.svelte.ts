/**
 * The Push view's state: the chosen archive and what is inside it, a target per image (prefilled from the
 * archive's own tag, retargeted to the registry pushed to last), and one push run with its progress. The
 * push runs in the engine's worker (engine.ts), which reads the file in slices as each layer goes up;
 * its failures are told through the advice module, as Pull's are.
 */
import { type ArchiveContents, readArchive } from '../../core/archive/reader.ts';
import { SkiffError } from '../../core/errors.ts';
import { type BlobState, type TransferProgress, type TransferResult, parsePushTarget } from '../../core/push.ts';
import { parseReference } from '../../core/image/reference.ts';
import { pushFile } from '../engine/engine.ts';
import { slicedFile } from '../engine/push-job.ts';
import type { Advice } from '../lib/advice.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import { readStored, writeStored } from '../lib/storage.ts';
import { credentials } from './credentials.svelte.ts';
import { adviceAbout, transportOptions } from './transport.ts';

const LAST_REGISTRY = 'pushRegistry';

/** A row's state once the push is over: what happened to it (`failed`: it was being sent; `not-started`). */
export type PushRowState = BlobState | 'failed' | 'stopped' | 'not-started';

export interface PushRow {
  key: string;
  /** The layer's digest (the file's, or its content's when stored uncompressed), else its path in the file. */
  name: string;
  path: string;
  size: number;
  /** Bytes of the layer read from the file and handed to the registry. */
  sent: number;
  state: PushRowState;
}

/** A repo tag from the archive (`app:1`, `docker.io/library/app:1`) pointed at `registry`, or as it is. */
export function retarget(repoTag: string, registry: string | undefined): string {
  if (!repoTag) return registry ? `${registry}/` : '';
  try {
    const reference = parseReference(repoTag);
    const path = `${reference.repository.replace(/^library\//, '')}:${reference.tag ?? 'latest'}`;
    if (!registry) return reference.registry === 'docker.io' ? repoTag : `${reference.registry}/${path}`;
    return `${registry}/${path}`;
  } catch {
    return registry ? `${registry}/${repoTag}` : repoTag;
  }
}

class PushState {
  file = $state.raw<File | undefined>(undefined);
  contents = $state.raw<ArchiveContents | undefined>(undefined);
  reading = $state(false);
  targets = $state<string[]>([]);
  compress = $state(true);
  running = $state(false);
  progress = $state.raw<TransferProgress | undefined>(undefined);
  speed = $state<number | undefined>(undefined);
  eta = $state<number | undefined>(undefined);
  result = $state.raw<TransferResult | undefined>(undefined);
  /** Why the file could not be read or pushed, in the page's language (the engine's words as its detail). */
  failure = $state.raw<Advice | undefined>(undefined);
  cancelled = $state(false);
  private controller: AbortController | undefined;

  /** The layer rows: live while the push runs; afterwards, what happened to each. */
  rows: PushRow[] = $derived.by(() => {
    const progress = this.progress;
    const contents = this.contents;
    if (!progress || !contents) return [];
    const over = !this.running && (this.failure || this.cancelled);
    return progress.blobs.map((layer, i) => {
      const archived = contents.images[layer.image]?.layers.find((l) => l.path === layer.path);
      const digest = archived?.digest ?? (archived?.compression === 'none' ? archived.diffId : undefined);
      let state: PushRowState = layer.state;
      // A layer shared with an earlier row got that row's upload, if that one finished.
      const twinDone = progress.blobs.some(
        (l, j) => j < i && l.path === layer.path && ['done', 'exists', 'mounted'].includes(l.state),
      );
      if (over && (state === 'waiting' || (state === 'shared' && !twinDone))) state = 'not-started';
      else if (over && (state === 'checking' || state === 'uploading')) state = this.cancelled ? 'stopped' : 'failed';
      const finished = state === 'done' || state === 'exists' || state === 'mounted';
      return {
        key: `${layer.image}/${i}`,
        name: digest ?? layer.path ?? layer.digest,
        path: layer.path ?? '',
        size: layer.size,
        sent: finished ? layer.size : state === 'not-started' ? 0 : Math.min(layer.bytes, layer.size),
        state,
      };
    });
  });

  /** Each target checked as typed: the message, or undefined when it is a pushable reference. */
  targetErrors: (string | undefined)[] = $derived(
    this.targets.map((t) => {
      try {
        parsePushTarget(t.trim());
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    }),
  );

  /** The registry of the first valid target: whose credentials the form shows. */
  registry: string | undefined = $derived.by(() => {
    for (const t of this.targets) {
      try {
        return parsePushTarget(t.trim()).registry;
      } catch {
        // not yet a reference
      }
    }
    return undefined;
  });

  async choose(file: File): Promise<void> {
    this.cancel();
    this.file = file;
    this.contents = undefined;
    this.result = undefined;
    this.failure = undefined;
    this.cancelled = false;
    this.progress = undefined;
    this.reading = true;
    try {
      const contents = await readArchive(slicedFile(file));
      if (this.file !== file) return;
      const last = readStored(LAST_REGISTRY, (v): v is string => typeof v === 'string');
      this.contents = contents;
      this.targets = contents.images.map((image) => retarget(image.repoTags[0] ?? '', last));
    } catch (error) {
      if (this.file === file) this.failure = adviceAbout(error, undefined, { push: 'read' });
    } finally {
      if (this.file === file) this.reading = false;
    }
  }

  async push(): Promise<void> {
    const contents = this.contents;
    if (!contents || this.running || this.targetErrors.some(Boolean)) return;
    // Push is an explicit action: the credential fields are signed in with now (typing never sends them).
    credentials.signInAll();
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.result = undefined;
    this.failure = undefined;
    this.cancelled = false;
    this.speed = undefined;
    this.eta = undefined;
    const meter = new RateMeter();
    const targets = this.targets.map((reference, image) => ({ image, reference: reference.trim() }));
    const target = parsePushTarget(targets[0]!.reference);
    try {
      writeStored(LAST_REGISTRY, target.registry);
      const job = { kind: 'push' as const, file: this.file!, targets, compress: this.compress };
      this.result = await pushFile(job, {
        signal: controller.signal,
        transport: transportOptions(),
        onProgress: (progress) => {
          meter.add(progress.bytes);
          this.speed = meter.rate();
          this.eta = etaSeconds(progress.totalBytes - progress.bytes, this.speed);
          this.progress = progress;
        },
      });
    } catch (error) {
      if (controller.signal.aborted) this.cancelled = true;
      // Named after the first target (its registry's relay, credentials and hosts); the detail names the image.
      else this.failure = adviceAbout(error, target, { push: 'send' });
      if (this.registry) credentials.noteFailure(this.registry, error);
    } finally {
      this.running = false;
      this.controller = undefined;
    }
  }

  cancel(): void {
    this.controller?.abort(new SkiffError('aborted', 'The push was cancelled.'));
  }
}

export const push = new PushState();
