/**
 * The Push view's state: the chosen archive and what is inside it, a target per image (prefilled from the
 * archive's own tag, retargeted to the registry pushed to last), and one push run with its progress. The
 * file is read from disk as a Blob in slices, as it is pushed; nothing of a layer is held.
 */
import { type ArchiveContents, readArchive } from '../../core/archive-read.ts';
import { fromWebBlob } from '../../core/blob-source.ts';
import { SkiffError } from '../../core/errors.ts';
import { type PushProgress, type PushResult, parsePushTarget, pushArchive } from '../../core/push.ts';
import { parseReference } from '../../core/reference.ts';
import type { TransportOptions } from '../../core/registry.ts';
import { absoluteRelay } from '../lib/config.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import { readStored, writeStored } from '../lib/storage.ts';
import { credentials } from './credentials.svelte.ts';
import { hostWaits, settings } from './settings.svelte.ts';

const LAST_REGISTRY = 'pushRegistry';

export interface PushFailure {
  code: string;
  message: string;
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
  progress = $state.raw<PushProgress | undefined>(undefined);
  speed = $state<number | undefined>(undefined);
  eta = $state<number | undefined>(undefined);
  result = $state.raw<PushResult | undefined>(undefined);
  failure = $state.raw<PushFailure | undefined>(undefined);
  cancelled = $state(false);
  private controller: AbortController | undefined;

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
      const contents = await readArchive(fromWebBlob(file));
      if (this.file !== file) return;
      const last = readStored(LAST_REGISTRY, (v): v is string => typeof v === 'string');
      this.contents = contents;
      this.targets = contents.images.map((image) => retarget(image.repoTags[0] ?? '', last));
    } catch (error) {
      if (this.file === file) this.failure = describe(error);
    } finally {
      if (this.file === file) this.reading = false;
    }
  }

  private transport(): TransportOptions {
    const s = settings.current;
    const relay = absoluteRelay(s.relay);
    return { ...(relay ? { relay } : {}), plainHttp: s.plainHttp, credentials: credentials.lookup, ...hostWaits() };
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
    try {
      const targets = this.targets.map((reference, image) => ({ image, reference: reference.trim() }));
      writeStored(LAST_REGISTRY, parsePushTarget(targets[0]!.reference).registry);
      this.result = await pushArchive(contents, targets, {
        ...this.transport(),
        compress: this.compress,
        signal: controller.signal,
        progressIntervalMs: 250,
        onProgress: (progress) => {
          meter.add(progress.read);
          this.speed = meter.rate();
          this.eta = etaSeconds(progress.expected - progress.read, this.speed);
          this.progress = progress;
        },
      });
    } catch (error) {
      if (controller.signal.aborted) this.cancelled = true;
      else this.failure = describe(error);
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

function describe(error: unknown): PushFailure {
  if (error instanceof SkiffError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

export const push = new PushState();
